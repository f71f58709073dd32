"""Epidemic control off chain: health-pass claims, venue kits and offline venue checks, sample
health data for gateways.

The pure parts re-exported here (:mod:`.schemas`, :mod:`.passes`, :mod:`.kit`, :mod:`.venue`)
need no node and no network. :mod:`.kit_builder` builds a venue kit from a node's store (the
API serves it); :mod:`.sample_data` fills a database with synthetic test results for gateways.
"""

from __future__ import annotations

from govchain.health.kit import (
    KIT_FORMAT,
    CompactSnapshot,
    KitAttestation,
    VenueKit,
    decode_kit,
    encode_kit,
)
from govchain.health.passes import (
    HealthError,
    HealthPass,
    build_pass_claims,
    compute_holder_ref,
    encode_health_pass,
    parse_pass_claims,
)
from govchain.health.schemas import HEALTH_PASS_TYPES, HEALTH_SCHEMAS, TEST_RESULT, VACCINATION
from govchain.health.venue import (
    VENUE_CHECKS,
    TrustedKit,
    VenueCheck,
    VenueDecision,
    VenuePolicy,
    attest_kit,
    check_pass,
    compute_snapshot_digest,
    load_kit,
)

__all__ = [
    "HEALTH_PASS_TYPES",
    "HEALTH_SCHEMAS",
    "KIT_FORMAT",
    "TEST_RESULT",
    "VACCINATION",
    "VENUE_CHECKS",
    "CompactSnapshot",
    "HealthError",
    "HealthPass",
    "KitAttestation",
    "TrustedKit",
    "VenueCheck",
    "VenueDecision",
    "VenueKit",
    "VenuePolicy",
    "attest_kit",
    "build_pass_claims",
    "check_pass",
    "compute_holder_ref",
    "compute_snapshot_digest",
    "decode_kit",
    "encode_health_pass",
    "encode_kit",
    "load_kit",
    "parse_pass_claims",
]
