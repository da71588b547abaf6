"""Run a lifecycle verb: prepare the plan, execute exactly that plan, resume it when it stops.

``prepare(request)`` loads and validates the inventory once, selects hosts and plans
waves (the plan a reviewer approves); ``execute(prepared)`` runs that plan batch by
batch through an engine and records it; ``resume_run(RUN)`` continues a halted,
interrupted or killed run from its record. ``run_verb`` is prepare then execute.
"""

from ccops.run.engine import AnsibleEngine, Engine
from ccops.run.execute import execute, open_locks, open_store, run_verb, secret_env_names
from ccops.run.identity import git_commit, new_run_id, operator, rotate_run_dirs
from ccops.run.prepare import PreparedRun, prepare
from ccops.run.request import RunRequest, RunResult, change_id_problem
from ccops.run.resume import resume_run

__all__ = [
    "AnsibleEngine",
    "Engine",
    "PreparedRun",
    "RunRequest",
    "RunResult",
    "change_id_problem",
    "execute",
    "git_commit",
    "new_run_id",
    "open_locks",
    "open_store",
    "operator",
    "prepare",
    "resume_run",
    "rotate_run_dirs",
    "run_verb",
    "secret_env_names",
]
