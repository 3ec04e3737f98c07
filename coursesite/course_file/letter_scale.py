"""The course file's ``letter_scale``: letters with the inclusive lower bounds of final totals."""

from __future__ import annotations

from coursesite.course_file.reader import Node
from coursesite.gradebook.engine import HUNDRED, LetterStep
from coursesite.models import LetterGrade

MOST_STEPS = 20


def _longest_letter() -> int:
    length = LetterGrade._meta.get_field("letter").max_length
    assert length is not None
    return length


def parse_letter_scale(node: Node | None) -> list[LetterStep]:
    """The steps from the highest bound down; none when the file leaves the key out.

    The file lists the steps in that order too, so that a bound written on the wrong letter (an A
    from 80 above a B from 85) is refused instead of quietly swapping two letters.
    """
    if node is None:
        return []
    step_nodes = list(node.items())
    if not step_nodes:
        raise node.error("a letter scale needs at least one step (leave the key out for none)")
    if len(step_nodes) > MOST_STEPS:
        raise node.error(f"the scale has {len(step_nodes)} steps; at most {MOST_STEPS}")
    steps: list[LetterStep] = []
    for step_node in step_nodes:
        keys = step_node.mapping(required=("letter", "min"))
        letter = keys["letter"].text(max_length=_longest_letter())
        if any(step.letter == letter for step in steps):
            raise keys["letter"].error(f"the letter {letter!r} is listed twice")
        minimum = keys["min"].decimal(maximum=HUNDRED)
        if steps and minimum >= steps[-1].minimum:
            above = steps[-1]
            problem = "is also" if minimum == above.minimum else "is above"
            raise keys["min"].error(
                f"{minimum} {problem} the bound of {above.letter!r} ({above.minimum}), the step "
                "before it; list the steps from the highest bound down, each bound once"
            )
        steps.append(LetterStep(letter, minimum))
    lowest = steps[-1]
    if lowest.minimum != 0:
        raise node.error(
            f"the lowest step, {lowest.letter!r}, starts at {lowest.minimum}: a total below it "
            "would have no letter, so the last step starts at 0"
        )
    return steps
