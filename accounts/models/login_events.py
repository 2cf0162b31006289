"""The login audit: every attempt to get in, and every logout."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.choices import LoginMethod, LoginOutcome


class LoginEvent(models.Model):
    """One login attempt (password, LDAP, SSO, first token use of a day) or logout: who, or
    the name they tried, from where, with what, and whether it worked."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="login_events",
    )
    username = models.CharField(max_length=150, db_index=True, help_text="As typed or known.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # What the throttle and the audit chain's aggregation count by: the IPv4 address, or the
    # IPv6 /64 network (one subscriber's; a host in it can choose any of its addresses).
    address = models.CharField(max_length=64, blank=True, default="")
    user_agent = models.CharField(max_length=500, blank=True)
    # One of LoginMethod, or "oidc:<provider>" for a single sign-on (no choices: providers are
    # configured, not enumerated in code).
    method = models.CharField(
        max_length=64, help_text="password, ldap, token, logout, or oidc:<provider>."
    )
    outcome = models.CharField(max_length=16, choices=LoginOutcome.choices)
    detail = models.CharField(max_length=300, blank=True)
    # The provider's identifier of the person (OIDC "sub"), when a single sign-on got that far.
    subject = models.CharField(max_length=255, blank=True, default="")
    # Whether this attempt also went into the hash-chained audit log. Successes always do;
    # unsuccessful attempts are sampled per address and window (accounts.services.login_audit),
    # so nobody can grow the chain without bound by failing to sign in.
    in_chain = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["username", "outcome", "created_at"]),
            models.Index(
                fields=["address", "outcome", "created_at"], name="accounts_login_addr_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.username} {self.method} {self.outcome}"

    @property
    def method_label(self) -> str:
        """ "Password", "LDAP"…, or the single sign-on's "oidc:<provider>" as it is."""
        return LoginMethod(self.method).label if self.method in LoginMethod.values else self.method
