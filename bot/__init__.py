"""FAQ bot: a grounded, citing assistant that answers from a college's own pages.

Heavy libraries (torch, chromadb, gradio) are imported lazily by the modules that need
them, so ``import bot`` stays cheap.
"""

from typing import TYPE_CHECKING

from bot.config import Settings
from bot.errors import FaqBotError
from bot.types import Answer, Citation

if TYPE_CHECKING:
    from bot.answer.chain import FaqChain

__all__ = ["Answer", "Citation", "FaqBotError", "Settings", "open_bot"]
__version__ = "0.1.0"


def open_bot(settings: Settings | None = None) -> "FaqChain":
    """Open the ingested index and return a ready :class:`bot.answer.chain.FaqChain`."""
    from bot.answer.chain import FaqChain

    return FaqChain.from_settings(settings or Settings.from_env())
