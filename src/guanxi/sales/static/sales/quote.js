// The quote editor's product picker: choosing a product fills the new line's product, description and
// shows its list price; the server computes every amount.
document.addEventListener("click", (event) => {
  const option = event.target.closest(".product-option");
  if (!option) return;
  document.getElementById("line-product-id").value = option.dataset.id;
  document.getElementById("product-q").value = option.dataset.name;
  document.getElementById("line-description").value = option.dataset.name;
  document.getElementById("line-price").placeholder = option.dataset.price;
  document.getElementById("product-options").remove();
  document.getElementById("line-quantity").focus();
});
