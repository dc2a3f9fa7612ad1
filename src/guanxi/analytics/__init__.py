"""Customer analytics as plain modules (numpy/scipy/pandas/scikit-learn, no Django): RFM, lifetime value,
churn risk, product affinity."""
