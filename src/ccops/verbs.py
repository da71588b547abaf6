"""The lifecycle verbs ccops knows: which playbook, which (role, action) steps, which hosts.

Each verb lists the steps its playbook really runs on a host, in order, with
the task file each one runs per OS family (or per restore card type). Plans
show these; a test checks that every task file a plan can name exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ccops.errors import UsageError

OS_FAMILIES = ("debian", "windows")
# restore_card's task file is the card type; "none" runs nothing (roles/patch/defaults: patch_restore_card)
RESTORE_CARD_TYPES = ("none", "lab", "command", "uwf", "deepfreeze")


@dataclass(frozen=True)
class Step:
    """One (role, action) a verb runs on a host, and the task file that does it."""

    role: str
    action: str
    # under roles/<role>/tasks/; {action}, {family} (debian, windows) and {card} (restore card type) are filled in
    file: str = "{action}_{family}.yml"
    note: str = ""  # when or why it runs, for people reading the plan
    families: tuple[str, ...] = OS_FAMILIES  # the OS families it runs on

    def task_file(self, family: str, card: str = "none") -> str | None:
        """The task file this step runs on a host, relative to the project; None when it runs nothing."""
        if ("{card}" in self.file and card == "none") or family not in self.families:
            return None
        return f"roles/{self.role}/tasks/" + self.file.format(action=self.action, family=family, card=card)


def restore_card_type(host_vars: Mapping[str, Any]) -> str:
    """The card type a host's restore_card steps run (the role's own default reads patch_restore_card)."""
    return str(host_vars.get("restore_card_type") or host_vars.get("patch_restore_card") or "none")


REBOOT_VAR = "ccops_reboot"  # the extra variable of a verb's reboot policy (roles/patch)


def hook(spec: str) -> Any:
    """The function a verb's "module:function" hook names, imported when first used."""
    import importlib

    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class VerbOption:
    """A setting of one verb: a command-line option whose value reaches its playbook as an extra variable."""

    flag: str  # --reboot
    extravar: str  # ccops_reboot
    help: str
    choices: tuple[str, ...] = ()
    default: str | None = None
    is_flag: bool = False  # an on/off permission its guard reads (--include-servers); never in a saved plan


@dataclass(frozen=True)
class Fact:
    """One value a verb gathers per host: its key in the host's ccops_report, its column, its shape.

    kind is one of FACT_KINDS: the host's value is parsed into it (ccops.hostdata) and shown by it.
    """

    key: str
    header: str
    kind: str = "text"


FACT_KINDS = ("text", "count", "seconds")


SELECT_WAVE = "select"  # the wave a select pass's host records carry (capacity leaves them out of batch times)


@dataclass(frozen=True)
class Preselect:
    """A cheap pass over all of a run's hosts before any wave: its playbook run with ``action``.

    A host that answers up_to_date (an ok result whose report says so, undamaged) is recorded done
    and runs no batch; a host that fails, cannot answer or answers anything else goes into the
    waves as if there were no such pass. ``note`` is what the plan says about it.
    """

    action: str
    note: str
    families: tuple[str, ...] = OS_FAMILIES  # the OS families whose hosts it can answer for


# how a run is approved: "yes" (a plain yes, or --yes), "names" (the selected hosts' names typed, or
# --confirm NAMES), "none" (not asked: read-only verbs, and verbs whose command asks on its own)
CONFIRM_YES, CONFIRM_NAMES, CONFIRM_NONE = "yes", "names", "none"
CONFIRMATIONS = (CONFIRM_YES, CONFIRM_NAMES, CONFIRM_NONE)
# a run's change id: "required", "optional", or "standing": required, and a schedule's standing change
# may stand for it (ccops.schedule fires it unattended under that change)
CHANGE_ID_REQUIRED, CHANGE_ID_OPTIONAL, CHANGE_ID_STANDING = "required", "optional", "standing"
CHANGE_ID_RULES = (CHANGE_ID_REQUIRED, CHANGE_ID_OPTIONAL, CHANGE_ID_STANDING)


@dataclass(frozen=True)
class Verb:
    name: str
    playbook: str  # under playbooks/
    action: str  # ccops_action the playbook's roles dispatch on
    lifecycle: tuple[str, ...]  # lifecycle states the verb may touch
    changes_hosts: bool  # changing verbs roll out in waves with an explicit batch size
    summary: str
    steps: tuple[Step, ...]  # what runs on each host, in order
    on_failure: tuple[Step, ...] = ()  # what runs instead when the change fails (install, reboot or health check)
    # a plain `ccops VERB` command built from this entry (cli/verb_cmd.py), with the shared options only;
    # False: a hand-written command (rollback HOST --to BACKUP), or one built here that asks otherwise
    command: bool = True
    help: str = ""  # the command's --help text
    short: str = ""  # its line in `ccops --help` (at most 62 characters); default: summary
    section: str = "Change hosts"  # the `ccops --help` section it is listed in (cli/main.py SECTIONS)
    facts: tuple[Fact, ...] = ()  # what a read-only verb gathers per host: recorded, and its table's columns
    retires_hosts: bool = False  # its hosts leave service for good (a failed run of it holds them apart)
    # the flag that picks this verb among those sharing its playbook (comply --check | --fix), for `ccops plan`
    mode: str = ""
    options: tuple[VerbOption, ...] = ()  # the verb's own settings, on top of the shared options
    report: str = "hosts"  # how results print: "assets" (inspect), "changes" (patch), "hosts"
    # "module:function" computing what the verb installs, when planned and again when resumed:
    # (inventory, hosts, options) -> (extra variables for the playbook, the plan's per-host content)
    content: str = ""
    # --- hooks: what sets this verb apart, so run/, plan and cli/ never compare a verb's name ---
    holds_hosts: bool = False  # holds its hosts while it runs although it is not a wave run (rollback)
    records_assets: bool = False  # a host report with outcome inspected/deployed becomes its asset record
    inspects: bool = False  # a full inspection: stored package sets are reused; reverted changes are looked for
    restores: bool = False  # a succeeded run returned hosts to a backup (a "rolled back" notification)
    package_source: bool = False  # its plan says where each site's packages come from (snapshot or archive)
    plan_section: str = ""  # a section of its own in the plan (plan_render.SECTIONS), e.g. "decommission"
    # "module:function" (prepared run, say) -> Engine: how its hosts are run when not by ansible-playbook
    engine: str = ""
    # "module:function" (store, inventory, run_id, outcomes, reports) -> (problems, files edited): after each
    # batch, also on resume for hosts done before a kill; the run's own inventory edit is then approved
    after_batch: str = ""
    # "module:function" (store, run id, host names) -> extra variables for one batch, read from the records when the
    # batch starts (decommission: the final backups the hosts' runs recorded, which a resume verifies)
    batch_vars: str = ""
    # "module:function" (run request) -> {label: sha256}: what else a saved plan pins besides the inventory
    # (the catalogue, an image's definition and build); `VERB --plan FILE` refuses when one differs
    pins: str = ""
    # "module:function" (image name, converge only, rebuild) -> run options: the verb writes a golden image,
    # so `ccops plan VERB` takes --image/--converge-only/--rebuild (deploy); no other verb accepts them
    image_settings: str = ""
    # "module:function" (run request) -> prepared run: how its plan selects and checks hosts when not by the
    # plain prepare() (deploy: converge and rebuild select active machines; every machine takes the image's OS)
    prepare: str = ""
    # a select pass over all the run's hosts before any wave (patch: a host with nothing to install
    # is recorded up_to_date and put into no batch); None: every host goes through its batch
    preselect: Preselect | None = None
    # --- after the run ---
    # "module:function" (prepared run, result, progress) once a run of it ended; never fails that run.
    # inspect and comply: the sites' quarantine policies hold and lift (ccops.quarantine.auto)
    after_run: str = ""
    # --- what finding reverted patches reads of a verb's runs (ccops.report.reverted) ---
    leaves_versions: bool = False  # its host reports say which package versions it left on the host
    resets_versions: bool = False  # it moves packages back by design: what was expected before no longer holds
    # --- what the command built from the entry checks and asks (cli/verb_cmd.py) ---
    # "module:function" (inventory, selector, options) -> (approved host names, options to add): checked
    # on the selection before the plan is made; refuses by raising (decommission: states, servers, cap)
    guard: str = ""
    confirmation: str = CONFIRM_YES  # CONFIRMATIONS: how the operator approves a run of it
    change_id: str = ""  # CHANGE_ID_RULES; "" means required when it changes hosts, else optional

    @property
    def locks_hosts(self) -> bool:
        """One such run per host at a time: every changing verb, and a verb that holds hosts (rollback)."""
        return self.changes_hosts or self.holds_hosts

    @property
    def reboot_option(self) -> VerbOption | None:
        """The verb's reboot policy setting, when it has one: the plan states it."""
        return next((o for o in self.options if o.extravar == REBOOT_VAR), None)

    @property
    def needs_change_id(self) -> bool:
        """Its runs are refused without a change id (by default: every verb that changes hosts)."""
        return self.change_id in (CHANGE_ID_REQUIRED, CHANGE_ID_STANDING) or (not self.change_id and self.changes_hosts)

    @property
    def may_stand(self) -> bool:
        """A schedule may fire it under its standing change: it needs no change id, or its rule allows one."""
        return not self.needs_change_id or self.change_id == CHANGE_ID_STANDING

    @property
    def asks(self) -> str:
        """How a run of it is approved: read-only verbs are not asked."""
        return self.confirmation if self.changes_hosts else CONFIRM_NONE

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.role for s in (*self.steps, *self.on_failure)))


CARD_PREPARE = Step("restore_card", "prepare", "{card}.yml", "prepare: maintenance mode")
CARD_REBASELINE = Step("restore_card", "rebaseline", "{card}.yml", "rebaseline: keep the change across reboots")
CARD_FREEZE = Step("restore_card", "freeze", "{card}.yml", "freeze: protected again without a re-baseline")
CARD_DISABLE = Step("restore_card", "disable", "{card}.yml", "disable: nothing may revert the wipe or the revocation")
HEALTH = Step("patch", "health")
SOFTWARE_STEPS = (
    Step("precheck", "check", note="lifecycle, change id, package manager, free space, busy seat"),
    Step("software", "select", note="what differs from the desired state; a host with nothing to change stops here"),
    Step("backup", "backup", note="before: package versions and the applications' config paths"),
    CARD_PREPARE,
    Step("software", "install", note="from the site's distribution point only"),
    Step("software", "health", note="each application's service and port"),
    CARD_REBASELINE,
)
SOFTWARE_ROLLBACK = (
    Step("backup", "restore", note="previous versions and config paths"),
    Step("software", "left_installed", note="what the restore could not take back (Windows: no installer kept)"),
    Step("software", "health", note="again, on the previous versions"),
    CARD_REBASELINE,
    CARD_FREEZE,
)

QUARANTINE_AFTER_CHECK = "ccops.quarantine.auto:after_run"

VERBS = {
    verb.name: verb
    for verb in (
        Verb(
            "inspect",
            "inspect.yml",
            "inspect",
            ("active", "retiring"),
            False,
            "collect each host's asset record: OS, hardware, packages, updates, disks, services, logs",
            steps=(Step("asset", "inspect"),),
            short="Gather each host's asset record (OS, packages, disks...).",
            help="""Gather OS, hardware, packages, pending updates, disks, uptime, key
    services and recent log lines from each selected host, and store them as
    its asset record (see: ccops host show HOST).

    Read-only on the hosts; touches active and retiring hosts.""",
            report="assets",
            records_assets=True,
            inspects=True,
            after_run=QUARANTINE_AFTER_CHECK,
        ),
        Verb(
            "patch",
            "patch.yml",
            "patch",
            ("active",),
            True,
            "pre-checks, verified backup, updates, reboot, health check, backup after, re-baseline",
            steps=(
                Step("precheck", "check", note="lifecycle, change id, package manager, free space, busy seat"),
                Step("patch", "select", note="updates to install; a host with none stops here"),
                Step("backup", "backup", note="before"),
                CARD_PREPARE,
                Step("patch", "apply"),
                Step("patch", "reboot", note="if needed"),
                HEALTH,
                Step("backup", "backup", note="after"),
                CARD_REBASELINE,
                Step("patch", "changes", note="packages changed, from the two backups", families=("debian",)),
            ),
            on_failure=(
                Step("backup", "restore", note="the before-backup"),
                Step("patch", "reboot", note="if it had rebooted"),
                CARD_FREEZE,
                HEALTH,
            ),
            help="""Patch hosts in waves: per host, pre-checks (reachable, active, maintenance
    window, free space, seat not busy), a verified backup, updates, a reboot
    when needed, a health check, a verified backup after, and the write
    filter or restore card re-baseline. A failed health check restores the
    before-backup. A wave whose failures cross the site's max_fail_percentage
    (or the run's max_failures) halts the run before its next batch (exit 3);
    ccops resume RUN continues it.

    Review first: ccops plan patch [selectors].""",
            options=(
                VerbOption(
                    "--reboot",
                    REBOOT_VAR,
                    "Reboot after patching.",
                    ("if_required", "always", "never"),
                    "if_required",
                ),
                VerbOption(
                    "--snapshot",
                    "content_snapshot",
                    "Patch Debian hosts from this approved content snapshot only (ccops content list). "
                    "Default: the site's newest approved snapshot, if it has one; else its configured archive.",
                ),
            ),
            short="Patch hosts in waves with verified backups before and after.",
            report="changes",
            content="ccops.content.patching:patch_content",
            package_source=True,
            leaves_versions=True,
            change_id=CHANGE_ID_STANDING,  # ccops schedule: patch nights under a standing change
            preselect=Preselect(
                "preselect",
                "before any wave, one play asks every Debian host what the approved content would change "
                "(one call per host: no pre-check, no backup, nothing installed; package lists older than "
                "patch_package_lists_max_age are refreshed); hosts with nothing to install are recorded "
                "up_to_date and run no batch; the batches run the hosts that remain, and every host that fails "
                "or cannot answer (not asked: Windows seats, sites run through their own node, sites outside "
                "their window)",
                families=("debian",),
            ),
        ),
        Verb(
            "rollback",
            "rollback.yml",
            "rollback",
            ("active", "retiring"),
            False,
            "restore a chosen verified backup on one host, its restore card re-baselined",
            steps=(
                Step("backup", "verify", note="machine and sha256 against the run record"),
                CARD_PREPARE,
                Step("backup", "restore", note="the chosen backup"),
                HEALTH,
                CARD_REBASELINE,
            ),
            on_failure=(CARD_FREEZE,),
            command=False,  # ccops rollback HOST --to BACKUP (cli/backups_cmd.py)
            holds_hosts=True,
            restores=True,
            resets_versions=True,
            change_id=CHANGE_ID_REQUIRED,  # it changes the host, though not in waves
        ),
        Verb(
            "software-apply",
            "software.yml",
            "apply",
            ("active",),
            True,
            "bring hosts to the catalogue's desired software, from their site's distribution point",
            steps=SOFTWARE_STEPS,
            on_failure=SOFTWARE_ROLLBACK,
            command=False,  # ccops software apply (cli/software_cmd.py)
            report="software",
            content="ccops.software.desired:run_content",
            pins="ccops.software.pins:catalogue_pins",
            leaves_versions=True,
            change_id=CHANGE_ID_STANDING,
        ),
        Verb(
            "software-remove",
            "software.yml",
            "apply",  # the same action, with one application desired absent
            ("active",),
            True,
            "remove one application from hosts, with a verified backup and a rollback",
            steps=SOFTWARE_STEPS,
            on_failure=SOFTWARE_ROLLBACK,
            command=False,  # ccops software remove APP (the option is that argument there)
            options=(VerbOption("--app", "software_remove", "The application to remove."),),
            report="software",
            content="ccops.software.desired:remove_content",
            pins="ccops.software.pins:catalogue_pins",
            leaves_versions=True,
        ),
        Verb(
            "software-stage",
            "software_stage.yml",
            "stage",
            ("active",),
            False,
            "copy the catalogue's artefacts to each site's distribution point, sha256-verified on arrival",
            steps=(
                Step("distribution_point", "stage", note="only what the point lacks intact; verified on arrival"),
                Step("restore_card", "prepare", "{card}.yml", "when the web server unit changes", ("debian",)),
                Step("restore_card", "rebaseline", "{card}.yml", "so a reboot keeps the web server", ("debian",)),
            ),
            command=False,  # ccops software stage [--site S]
            report="stage",
        ),
        # ccops content snapshot (cli/content_cmd.py): what the hosts need, then one host per
        # release downloads it for the controller, which signs it and stages it on the point
        Verb(
            "content-updates",
            "content_snapshot.yml",
            "updates",
            ("active",),
            False,
            "each Debian host reports what it would install from its -security and -updates suites",
            steps=(Step("content", "updates", note="apt lists refreshed, dist-upgrade simulated; Windows: refused"),),
            command=False,
        ),
        Verb(
            "content-download",
            "content_snapshot.yml",
            "download",
            ("active",),
            False,
            "one host per Debian release downloads a snapshot's exact versions for the controller",
            steps=(
                Step(
                    "content",
                    "download",
                    note="the host's own sources and archive keys; fetched to the controller; Windows: refused",
                ),
            ),
            command=False,
        ),
        Verb(
            "content-seed",
            "content_snapshot.yml",
            "seed",
            ("active",),
            False,
            "a new snapshot reaches the site's point as one archive; the verified stage follows",
            steps=(Step("content", "seed", note="unpacked into the point's folder; Windows: refused"),),
            command=False,
        ),
        Verb(
            "decommission",
            "decommission.yml",
            "decommission",
            ("retiring",),
            True,
            "final verified backup, revoke access, sanitise declared data (read back), power off or hand back",
            steps=(
                Step("precheck", "check", note="lifecycle retiring, change id, busy seat (names and servers: ccops)"),
                Step("backup", "verify", note="on resume: the final backup the decommission mark names"),
                Step("backup", "backup", note="final, verified; nothing is revoked or wiped without it"),
                CARD_PREPARE,
                Step("decommission", "revoke", note="site hooks, declared local accounts and certificates"),
                Step("decommission", "sanitise", note="declared data paths: NIST SP 800-88 clear, read back"),
                CARD_DISABLE,
                Step(
                    "decommission",
                    "release",
                    note="last: the operator's access (SSH keys; Windows: rights, domain); power off or hand back",
                ),
            ),
            help="""Take retiring hosts out of service for good.

    Per host: a final verified backup; access revoked (site hooks, declared
    local accounts and certificates, Windows domain membership; the
    operator's SSH key last); declared data paths sanitised (NIST SP 800-88
    clear: overwritten with zeros, read back, removed); the restore card
    switched off so nothing reverts at a boot; then power off or hand back (site
    setting). Each host gets a certificate (ccops runs certificate RUN HOST)
    and becomes lifecycle: retired, with the date, in its site file.

    Refused, nothing touched: a selected host not in state retiring, a server
    without --include-servers, more hosts than the site's cap
    (decommission.max_hosts, 10 by default), host names not typed exactly.
    Review first: ccops plan decommission [selectors].""",
            # built by the factory in cli/decommission_cmd.py, not a plain verb (command=False): its
            # confirmation is the hosts' names typed (--confirm NAMES), not --yes
            command=False,
            options=(
                VerbOption(
                    "--include-servers",
                    "decommission_include_servers",
                    "Allow hosts whose role is a server (not a desktop).",
                    is_flag=True,
                ),
            ),
            guard="ccops.decommission.guards:run_guard",
            confirmation=CONFIRM_NAMES,
            plan_section="decommission",
            retires_hosts=True,
            after_batch="ccops.decommission.guards:after_batch",
            batch_vars="ccops.decommission.recorded:recorded_final_backups",
            resets_versions=True,
        ),
        Verb(
            "deploy",
            "deploy.yml",
            "deploy",
            ("planned",),
            True,
            "network-boot new machines, write the golden image (checksum verified), converge, make them active",
            steps=(
                Step("backup", "backup", note="rebuilds only, before imaging: the declared paths, verified"),
                Step("deploy", "converge", note="after pxe, download, checksum, write, first boot: image, host name"),
                Step("asset", "inspect", note="the asset record"),
                Step("deploy", "report", note="the image version into the record"),
            ),
            command=False,  # ccops deploy --image NAME (cli/deploy_cmd.py)
            report="hosts",
            records_assets=True,
            engine="ccops.image.deploy:engine_for",
            pins="ccops.image.deploy_plan:image_pins",
            image_settings="ccops.image.deploy_plan:deploy_options",
            prepare="ccops.image.deploy_plan:prepare_deploy",
            resets_versions=True,
        ),
        Verb(
            "reimage",
            "reimage.yml",
            "reimage",
            ("active",),
            True,
            "send deployed machines back to network imaging: next boot from the network (a rebuild)",
            steps=(
                Step(
                    "deploy",
                    "netboot",
                    note="Debian: efibootmgr or the boot code cleared, then a restart; Windows: refused "
                    "(ccops does not re-image Windows)",
                ),
            ),
            command=False,  # planned only (ccops plan reimage); Windows never ran here
        ),
        # ccops comply --check | --fix (cli/comply_cmd.py): two entries, because a check is
        # read-only (no waves, locks or window) and a fix is a changing run
        Verb(
            "comply-check",
            "comply.yml",
            "check",
            ("active", "retiring"),
            False,
            "every deviation from the site's policies and accounts, per host and policy; changes nothing",
            steps=(Step("comply", "check", "{action}.yml", "one module call compares the host with its policy"),),
            command=False,
            report="compliance",
            mode="check",
            after_run=QUARANTINE_AFTER_CHECK,
        ),
        Verb(
            "comply",
            "comply.yml",
            "fix",
            ("active",),
            True,
            "pre-checks, check, remediation of what deviates, check again, re-baseline",
            steps=(
                Step("precheck", "check", note="lifecycle, change id, package manager, free space, busy seat"),
                Step("comply", "state", note="a compliant host stops here, untouched"),
                CARD_PREPARE,
                Step("comply", "apply", note="only what deviates; files validated before they land"),
                Step("comply", "state", note="again, after the fix"),
                CARD_REBASELINE,
                Step("comply", "report", "report.yml", note="what is still out of policy fails the host"),
            ),
            on_failure=(CARD_FREEZE, Step("comply", "state", note="what the failed fix left")),
            command=False,
            report="compliance",
            mode="fix",
            after_run=QUARANTINE_AFTER_CHECK,  # a fix that leaves a held host in policy lifts its hold
            change_id=CHANGE_ID_STANDING,
        ),
        Verb(
            "uptime",
            "uptime.yml",
            "uptime",
            ("active", "retiring"),
            False,
            "how long each host has been up since its last boot; changes nothing",
            steps=(Step("uptime", "uptime"),),
            help="""Read how long each selected host has been up since its last boot, record
    it with the run (ccops runs show RUN) and print it per host.

    Read-only on the hosts; touches active and retiring hosts.""",
            short="How long each host has been up since its last boot.",
            section="Fleet",
            facts=(Fact("uptime_seconds", "UP", "seconds"),),
        ),
    )
}


def recorded_verb(name: str) -> Verb | None:
    """The verb a stored run names; None for a name this version does not know (an older record)."""
    return VERBS.get(name)


def get_verb(name: str) -> Verb:
    try:
        return VERBS[name]
    except KeyError:
        raise UsageError(f"unknown verb {name!r}; known: {', '.join(VERBS)}") from None
