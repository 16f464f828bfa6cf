"""What other features show of the account: the consent buttons' data, age and role labels."""

from __future__ import annotations

from bot.core.i18n import N_
from db.models import AgeBand, Role

ACCEPT, REFUSE, FULL = "onb:yes", "onb:no", "onb:full"
"""The privacy notice's buttons: agree, refuse, read the full notice (answered by onboarding)."""

AGE_LABELS = {
    AgeBand.UNDER_16: N_("Under 16"),
    AgeBand.AGE_16_17: N_("16–17"),
    AgeBand.AGE_18_29: N_("18–29"),
    AgeBand.AGE_30_PLUS: N_("30 or older"),
}
ROLE_LABELS = {Role.CITIZEN: N_("Citizen"), Role.ACTIVIST: N_("Youth activist")}
UNDER_16_NOTE = N_(
    "Because you are under 16, the law asks for a parent's or guardian's consent before we "
    "store data about you. You can still read the guides and report problems or corruption "
    "anonymously. We keep only your age band, so that the bot protects you. If you chose it "
    "by mistake, change it in /privacy."
)
"""Said when someone chooses "Under 16" (onboarding, /privacy): what stays open (privacy.md 3)."""
