"""Offline bundle verification on one core: .venv/bin/python bench/bundle_verify.py [N]

Builds a real chain in memory (the unit tests' certificate world: tax accredited for
BusinessLicence, an issuer, a schema), issues one credential, builds its verification bundle and
verifies it N times with no network: header hash and signature, six sparse-Merkle state proofs
(anchor and status; identity, organisation, accreditation and schema at the anchoring height),
anchor hash, eddsa-jcs-2022 proof with the proven key, key window, accreditation, schema,
validity, status and freshness. Single-threaded; the bundle is decoded from JSON once per
verification, and nothing is cached between verifications. With ``--later`` the bundle is built
two blocks after issuance (the usual case): the recent header vouches for the anchoring one
through a seventh proof, of the anchoring block's hash in the block-hash history.

With ``--state N`` the chain first commits N notary records (real transactions, in blocks of
2,000), so that the state proofs have the depth of a chain with that much state: each proof costs
one hash per level, about log2(state entries) levels.

The rate is given per CPU second of this process (``time.process_time``) as well as per wall
second: on a shared machine the first is the figure that says what one core does.
"""

from __future__ import annotations

import argparse
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
from govchain.merkle.smt import decode_state_proof  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=5_000, help="verifications")
    parser.add_argument("--later", action="store_true", help="build the bundle 2 blocks later")
    parser.add_argument("--state", type=int, default=0, help="notary records committed first")
    options = parser.parse_args()
    n, padding = options.n, options.state
    chain = new_chain()
    for start in range(0, padding, 2_000):
        chain.commit([chain.tx() for _ in range(min(2_000, padding - start))])
    world = make_world(chain)
    vc = world.issue()
    if options.later:
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
    headers = "later: history proof" if options.later else "one header"
    print(
        f"bundle verify ({headers}): {n} in {seconds:.2f} s = {n / seconds:,.0f}/s wall, "
        f"{n / cpu:,.0f}/s per CPU second"
    )
    depths = [decode_state_proof(bytes.fromhex(bundle.anchor.proof)).depth]
    depths += [decode_state_proof(bytes.fromhex(bundle.issuance.identity.proof)).depth]
    print(
        f"bundle size: {len(data)} bytes (JSON); state proof depth {min(depths)}-{max(depths)} "
        f"after {padding:,} padding records"
    )


if __name__ == "__main__":
    main()
