"""The local CA of `network up --tls`: what it issues is signed by it, names the hosts, serves as
server and client, and keeps private keys private."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from govchain.node.pki import has_local_ca, init_network_pki, issue_node_cert


def _load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_certificates_of_the_local_ca(tmp_path: Path) -> None:
    pki = init_network_pki(tmp_path, ["etcd0"], ["node0"])
    ca = _load(pki.ca_file)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for cert_path, key_path in [*pki.etcd.values(), *pki.nodes.values()]:
        cert = _load(cert_path)
        cert.verify_directly_issued_by(ca)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
        assert "localhost" in san.get_values_for_type(x509.DNSName)
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= set(usage)
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "tls" / "ca-key.pem").stat().st_mode) == 0o600
    assert (
        tmp_path / "nodes" / "node0" / "tls" / "ca.pem"
    ).read_bytes() == pki.ca_file.read_bytes()


def test_a_peer_added_later_gets_a_certificate_of_the_same_ca(tmp_path: Path) -> None:
    assert not has_local_ca(tmp_path)
    with pytest.raises(FileNotFoundError):
        issue_node_cert(tmp_path, "node5")
    pki = init_network_pki(tmp_path, [], ["node0"])
    assert has_local_ca(tmp_path)
    cert_path, _ = issue_node_cert(tmp_path, "node5")
    _load(cert_path).verify_directly_issued_by(_load(pki.ca_file))
