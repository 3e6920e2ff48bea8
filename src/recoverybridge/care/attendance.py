"""How the referral follows what a follow-up finds: its Task status (HL7 Gravity, care.states)
and, for a referral to mutual aid (a meeting, a group, or a peer or recovery organisation, whose
groups are mutual aid too), its businessStatus milestone.

| how it went             | Task status goes to                 | milestone (mutual aid)          |
|-------------------------|-------------------------------------|---------------------------------|
| went                    | in-progress                         | attended first meeting (if none yet) |
| going regularly         | completed (through in-progress)     | attending regularly             |
| went, then stopped      | on-hold                             | tried and stopped               |
| chose another group     | completed (through in-progress)     | chose another group             |
| not yet                 | unchanged (requested stays requested) | unchanged                     |
| something got in the way| unchanged; the barriers are recorded | unchanged                      |
| could not reach them    | unchanged                           | unchanged                       |

A referral to a meeting or group has no receiving organisation, so the referring team records
the performer's steps as the person reports them (care.states). A referral to another
organisation is that organisation's to move (through the FHIR Task API): its status is left
alone; the follow-up is recorded, and the milestone, which is what the person told us, is set.
Nothing moves a referral that has finished (completed, cancelled...) or was entered in error;
a milestone never goes back (a "went" after "attending regularly" leaves it).
"""

from dataclasses import dataclass

from recoverybridge.care.models import FollowUpResult, MutualAidMilestone, TaskStatus
from recoverybridge.care.states import TRANSITIONS

R = FollowUpResult
S = TaskStatus
M = MutualAidMilestone

# result -> (Task status to reach, milestone to set)
EFFECTS: dict[str, tuple[str | None, str | None]] = {
    R.ATTENDED: (S.IN_PROGRESS, M.ATTENDED_FIRST),
    R.ATTENDING_REGULARLY: (S.COMPLETED, M.ATTENDING_REGULARLY),
    R.STOPPED: (S.ON_HOLD, M.TRIED_AND_STOPPED),
    R.CHOSE_ANOTHER: (S.COMPLETED, M.CHOSE_ANOTHER),
    R.NOT_YET: (None, None),
    R.BARRIER: (None, None),
    R.NOT_REACHED: (None, None),
}
# Results that say what got in the way (their barriers are recorded with the follow-up).
WITH_BARRIERS = frozenset({R.NOT_YET, R.BARRIER, R.STOPPED})


@dataclass(frozen=True)
class Following:
    """The status changes to make, in order, and the milestone to set (None: leave it)."""

    statuses: tuple[str, ...]
    milestone: str | None


def status_path(current: str, target: str | None) -> tuple[str, ...]:
    """The transitions from `current` to `target`: one step, or two through in-progress (a
    requested referral whose person is already going regularly); () when it is there already or
    cannot get there."""
    if target is None or target == current:
        return ()
    if target in TRANSITIONS[current]:
        return (target,)
    if S.IN_PROGRESS in TRANSITIONS[current] and target in TRANSITIONS[S.IN_PROGRESS]:
        return (S.IN_PROGRESS, target)
    return ()


def follow(status: str, milestone: str, result: str, *, mutual_aid: bool, performs: bool) -> Following:
    """What a follow-up's `result` does to a referral at `status` with `milestone`. `performs`:
    whoever records it may set the performer's statuses (the referring team of a referral with
    no receiving organisation)."""
    target, new_milestone = EFFECTS[result]
    if status in (S.DRAFT, S.ENTERED_IN_ERROR):
        return Following((), None)
    statuses = status_path(status, target) if performs else ()
    if not mutual_aid or new_milestone is None or new_milestone == milestone:
        return Following(statuses, None)
    if new_milestone == M.ATTENDED_FIRST and milestone:
        return Following(statuses, None)  # already further on (or back again after stopping)
    return Following(statuses, new_milestone)
