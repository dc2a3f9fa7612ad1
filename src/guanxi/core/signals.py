"""Keep process-local caches honest when the records behind them change."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import ApiToken, User
from .services import forget_tokens


@receiver([post_save, post_delete], sender=User)
def _user_changed(sender, instance: User, **kwargs) -> None:  # deactivated, role or team changed
    forget_tokens(instance.pk)


@receiver([post_save, post_delete], sender=ApiToken)
def _token_changed(sender, instance: ApiToken, **kwargs) -> None:  # revoked
    forget_tokens(instance.user_id)
