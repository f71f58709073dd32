"""How a need of a service step is met, and the checks of each way.

- **A credential the applicant holds.** The applicant presents the credential's anchor hash and
  the holder salt its issuer gave with it. The anchor (``certs``) must exist on this chain, be of
  an accepted type from an accepted issuer, be active and within its validity window. A
  credential anchor records no holder, so the issuer commits to one: ``bind_holder`` stores
  ``commitment = H(credential hash, holder id, salt)`` (:func:`compute_holder_commitment`). The
  contract recomputes it with the instance's applicant and the presented salt; another holder's
  credential does not match (``WF_CREDENTIAL_NOT_HOLDERS``) and another chain's is unknown here
  (``WF_CREDENTIAL_UNKNOWN``). The salt keeps the holder hidden until the holder chooses to use
  the credential: without it, anyone could try every identity on chain against the commitment.
- **Data shared under a grant.** The grant (``sharing``) must be usable now, requested by the
  step's organisation, about the applicant, on the need's resource and cover its fields.
- **An upload.** Only its SHA-256 goes on chain.
"""

from __future__ import annotations

from govchain.contracts.base import ReadContext
from govchain.contracts.certs_records import get_anchor, get_status
from govchain.contracts.sharing_records import get_grant, get_grant_problem
from govchain.contracts.workflow_definitions import Need
from govchain.contracts.workflow_records import HolderBinding, MetBy, Provision
from govchain.crypto.hashing import tagged_hash
from govchain.encoding import encode
from govchain.errors import ContractError, NotFoundInState

__all__ = [
    "MAX_SALT",
    "MIN_SALT",
    "check_provision",
    "compute_holder_commitment",
    "get_holder_binding",
]

NAME = "workflow"
MIN_SALT = 16
MAX_SALT = 64


def compute_holder_commitment(credential_hash: bytes, holder: str, salt: bytes) -> bytes:
    """The issuer's commitment that ``holder`` (an identity id) holds the credential."""
    return tagged_hash(b"govchain/holder/v1", encode([credential_hash, holder, salt]))


def get_holder_binding(ctx: ReadContext, credential_hash: bytes) -> HolderBinding | None:
    return ctx.other(NAME).get_as(b"holder/" + credential_hash, HolderBinding)


def _err(code: str, message: str, hint: str) -> ContractError:
    return ContractError(message, code=code, hint=hint)


def check_provision(
    ctx: ReadContext, need: Need, step_org: str, applicant: str, p: Provision, now_ms: int
) -> tuple[MetBy, str]:
    """How ``p`` meets ``need`` (``credential``/``data``/``upload`` and the reference kept on
    chain), or the specific reason it does not."""
    given = [x is not None for x in (p.credential_hash, p.grant_id, p.upload_hash)]
    if sum(given) != 1:
        raise _err(
            "WF_BAD_PROVISION",
            f"need {p.step}/{p.need}: give exactly one of a credential, a grant or an upload",
            "Pass --credential HASH:SALT, --grant ID or --upload FILE for the need.",
        )
    if p.credential_hash is not None:
        _check_credential(ctx, need, applicant, p.credential_hash, p.holder_salt, now_ms)
        return "credential", p.credential_hash.hex()
    if p.grant_id is not None:
        _check_grant(ctx, need, step_org, applicant, p.grant_id, now_ms)
        return "data", p.grant_id
    assert p.upload_hash is not None
    if not need.upload:
        raise _err(
            "WF_UPLOAD_NOT_ACCEPTED",
            f"need {p.step}/{p.need} cannot be met by an upload",
            "Present a credential or a data-sharing grant for it.",
        )
    if len(p.upload_hash) != 32:
        raise _err("WF_BAD_PROVISION", "an upload hash is a 32-byte SHA-256", "Hash the file.")
    return "upload", p.upload_hash.hex()


def _check_credential(
    ctx: ReadContext,
    need: Need,
    applicant: str,
    credential_hash: bytes,
    salt: bytes | None,
    now_ms: int,
) -> None:
    way = need.credential
    if way is None:
        raise _err(
            "WF_CREDENTIAL_NOT_ACCEPTED",
            f"need {need.id} cannot be met by a credential",
            "Share the data under a grant or upload the document.",
        )
    anchor = get_anchor(ctx, credential_hash)
    status = get_status(ctx, credential_hash)
    if anchor is None or status is None:
        raise NotFoundInState(
            f"credential {credential_hash.hex()} is not anchored on this chain",
            code="WF_CREDENTIAL_UNKNOWN",
            hint="Present a credential issued on this chain (`govchain wallet list`).",
        )
    if anchor.credential_type not in way.types:
        raise _err(
            "WF_CREDENTIAL_WRONG_TYPE",
            f"need {need.id} takes {', '.join(way.types)}, not {anchor.credential_type}",
            "Present a credential of an accepted type.",
        )
    if anchor.issuer_org not in way.issuers:
        raise _err(
            "WF_CREDENTIAL_WRONG_ISSUER",
            f"need {need.id} takes credentials issued by {', '.join(way.issuers)}, "
            f"not {anchor.issuer_org}",
            "Present a credential from an accepted issuer.",
        )
    if status.status != "active":
        raise _err(
            f"WF_CREDENTIAL_{status.status.upper()}",
            f"credential {credential_hash.hex()} is {status.status} ({status.reason_code})",
            "Ask the issuer for a valid credential, or meet the need another way.",
        )
    if anchor.valid_from_ms > now_ms or (
        anchor.valid_until_ms is not None and anchor.valid_until_ms <= now_ms
    ):
        raise _err(
            "WF_CREDENTIAL_EXPIRED",
            f"credential {credential_hash.hex()} is not valid at this time",
            "Ask the issuer to renew the credential.",
        )
    _check_holder(ctx, applicant, credential_hash, salt)


def _check_holder(
    ctx: ReadContext, applicant: str, credential_hash: bytes, salt: bytes | None
) -> None:
    binding = get_holder_binding(ctx, credential_hash)
    if binding is None:
        raise _err(
            "WF_CREDENTIAL_UNBOUND",
            f"credential {credential_hash.hex()} has no holder binding",
            "Ask the issuer to bind the credential to its holder (`bind_holder`).",
        )
    if salt is None or not MIN_SALT <= len(salt) <= MAX_SALT:
        raise _err(
            "WF_BAD_PROVISION",
            f"a credential is presented with its holder salt ({MIN_SALT}-{MAX_SALT} bytes)",
            "Pass the salt the issuer gave with the credential.",
        )
    if compute_holder_commitment(credential_hash, applicant, salt) != binding.commitment:
        raise ContractError(
            f"credential {credential_hash.hex()} is not held by {applicant}",
            code="WF_CREDENTIAL_NOT_HOLDERS",
            hint="Present your own credential, with the salt its issuer gave you.",
        )


def _check_grant(
    ctx: ReadContext, need: Need, step_org: str, applicant: str, grant_id: str, now_ms: int
) -> None:
    way = need.data
    if way is None:
        raise _err(
            "WF_DATA_NOT_ACCEPTED",
            f"need {need.id} cannot be met by shared data",
            "Present a credential or upload the document.",
        )
    grant = get_grant(ctx, grant_id)
    if grant is None:
        raise NotFoundInState(
            f"no grant {grant_id!r}", code="WF_GRANT_UNKNOWN", hint="`govchain share` lists grants."
        )
    problem = get_grant_problem(grant, now_ms)
    if problem is None and grant.requester != step_org:
        problem = f"grant {grant_id} is for {grant.requester}, not the step's {step_org}"
    if problem is None and grant.subject != applicant:
        problem = f"grant {grant_id} is about another subject than the applicant"
    if problem is None and grant.resource_id != way.resource:
        problem = f"grant {grant_id} is on {grant.resource_id}, not {way.resource}"
    if problem is None and (missing := sorted(set(way.fields) - set(grant.fields))):
        problem = f"grant {grant_id} does not cover field(s) {', '.join(missing)}"
    if problem is not None:
        raise _err(
            "WF_GRANT_UNUSABLE",
            problem,
            "Ask for a grant to the step's organisation on the need's resource and fields.",
        )
