"""Problems: what is wrong with an annotation, a report or a document, said so a person can
fix it. REST answers list them in a problem+json body; the room quotes the first one when it
rejects an update."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError


class Problem(BaseModel):
    """One thing wrong, and where: `path` is slash-separated (`annotations/a1/target/selector`)."""

    model_config = ConfigDict(frozen=True)

    path: str
    message: str
    # The change is well formed but not allowed (a locked report, a field only the
    # workflow writes): a live client is told "permission denied" and stays connected,
    # where a malformed change closes its socket.
    denied: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class Invalid(ValueError):
    """Raised by parsers and writers; `problems` says everything that is wrong, not just the
    first thing."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems) or "invalid")


def join_path(*parts: object) -> str:
    return "/".join(str(p) for p in parts if p != "" and p is not None)


def from_validation_error(error: ValidationError, prefix: str = "") -> list[Problem]:
    """Pydantic's errors, reworded: drop its "Value error, " noise and union branch names."""
    problems: list[Problem] = []
    for item in error.errors(include_url=False):
        # Union branches show up as location parts like "TextualBody" or "function-after[...]";
        # they mean nothing to a person editing JSON.
        loc = [
            part
            for part in item["loc"]
            if isinstance(part, int) or (part[:1].islower() and "[" not in part)
        ]
        message = item["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        problem = Problem(path=join_path(prefix, *loc), message=message)
        if problem not in problems:
            problems.append(problem)
    return problems
