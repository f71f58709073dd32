"""Offline bundle verification on one core: .venv/bin/python bench/bundle_verify.py [N]

Builds a real chain in memory (the unit tests' certificate world: tax accredited for
BusinessLicence, an issuer, a schema), issues one credential, builds its verification bundle and
verifies it N times with no network: header hash and signature, six sparse-Merkle state proofs
(anchor and status; identity, organisation, accreditation and schema at the anchoring height),
anchor hash, eddsa-jcs-2022 proof with the proven key, key window, accreditation, schema,
validity, status and freshness. Single-threaded; the bundle is decoded from JSON once per
verification. With ``--later`` the bundle is built two blocks after issuance, so it carries two
signed headers (the recent one and the anchoring block's) and checks both.

The rate is given per CPU second of this process (``time.process_time``) as well as per wall
second: on a shared machine the first is the figure that says what one core does.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from certs_world import make_world  # noqa: E402
from conftest import new_chain  # noqa: E402

from govchain.app.credential_bundle import build_credential_bundle  # noqa: E402
from govchain.client.offline import verify_bundle  # noqa: E402
from govchain.client.verify import TrustAnchor  # noqa: E402
from govchain.credentials.bundle import decode_bundle, encode_bundle  # noqa: E402
from govchain.credentials.vc import compute_credential_hash  # noqa: E402


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 5_000
    world = make_world(new_chain())
    vc = world.issue()
    if "--later" in sys.argv:
        world.chain.commit([])
        world.chain.commit([])
    app = world.chain.app
    bundle = build_credential_bundle(app, compute_credential_hash(vc), credential=vc)
    data = encode_bundle(bundle)
    trust = TrustAnchor(app.chain_id, app.genesis_hash, [world.chain.node_key.public_key])
    now = world.chain.header.time_ms
    assert verify_bundle(decode_bundle(data), trust, now, 60_000).valid
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(n):
        result = verify_bundle(decode_bundle(data), trust, now, 60_000)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert result.valid
    headers = "two headers" if "--later" in sys.argv else "one header"
    print(
        f"bundle verify ({headers}): {n} in {seconds:.2f} s = {n / seconds:,.0f}/s wall, "
        f"{n / cpu:,.0f}/s per CPU second"
    )
    print(f"bundle size: {len(data)} bytes (JSON)")


if __name__ == "__main__":
    main()
