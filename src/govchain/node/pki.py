"""A local certificate authority for a network's TLS: etcd (clients and members) and the peers'
APIs, as ``govchain network up --tls`` sets them up on one machine.

One CA (``DIR/tls/ca.pem``; its key ``ca-key.pem`` readable by the owner only) signs:

* for each etcd member ``etcd-<name>.pem`` — its client and peer (member-to-member) certificate;
* for each peer ``nodes/<id>/tls/node.pem`` — the certificate its API serves, and with which it
  authenticates to etcd (``--client-cert-auth``) and to the other peers; next to it a copy of
  the CA (``ca.pem``) to verify them.

Certificates carry the hosts as subject alternative names and both the server and the client
purpose. Keys are ECDSA P-256. A real deployment uses the city's own PKI instead (the files are
named in each node's config.json; docs/multi-node.md).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CA_FILE",
    "NODE_CERT",
    "NODE_KEY",
    "NetworkPki",
    "etcd_cert_paths",
    "has_local_ca",
    "init_network_pki",
    "issue_node_cert",
]

CA_FILE = "tls/ca.pem"  # relative to the network directory, and to each node directory
CA_KEY = "tls/ca-key.pem"  # relative to the network directory
NODE_CERT = "tls/node.pem"  # relative to a node directory
NODE_KEY = "tls/node-key.pem"
VALID_DAYS = 825  # the longest validity common TLS clients accept for a leaf certificate


@dataclass(frozen=True)
class NetworkPki:
    ca_file: Path
    etcd: dict[str, tuple[Path, Path]]  # member name -> (certificate, key)
    nodes: dict[str, tuple[Path, Path]]  # node id -> (certificate, key)


def etcd_cert_paths(network_dir: Path, member: str) -> tuple[Path, Path]:
    tls = network_dir / "tls"
    return tls / f"etcd-{member}.pem", tls / f"etcd-{member}-key.pem"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "govchain local network"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _san(hosts: Iterable[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


class _Authority:
    def __init__(
        self, now: datetime.datetime, existing: tuple[x509.Certificate, ec.EllipticCurvePrivateKey]
    ) -> None:
        self.now = now
        self.cert, self.key = existing
        self.name = self.cert.subject

    @classmethod
    def new(cls, now: datetime.datetime) -> _Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name("govchain local network CA")
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        return cls(now, (cert, key))

    @classmethod
    def load(cls, network_dir: Path, now: datetime.datetime) -> _Authority:
        cert = x509.load_pem_x509_certificate((network_dir / CA_FILE).read_bytes())
        key = serialization.load_pem_private_key((network_dir / CA_KEY).read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the network's CA key is not an EC key")
        return cls(now, (cert, key))

    def _builder(
        self, subject: x509.Name, public_key: ec.EllipticCurvePublicKey, days: int
    ) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - datetime.timedelta(minutes=5))
            .not_valid_after(self.now + datetime.timedelta(days=days))
        )

    def issue(
        self, common_name: str, hosts: Iterable[str], cert_path: Path, key_path: Path
    ) -> None:
        """A leaf for ``hosts``, usable as a TLS server and as a TLS client."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            self._builder(_name(common_name), key.public_key(), VALID_DAYS)
            .add_extension(_san(hosts), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        _write_key(key_path, key)
        _write_cert(cert_path, cert)


def init_network_pki(
    network_dir: Path,
    etcd_members: Iterable[str],
    node_ids: Iterable[str],
    hosts: Iterable[str] = ("127.0.0.1", "localhost"),
) -> NetworkPki:
    """Make the CA and every member's and peer's certificate (see the module notes)."""
    hosts = tuple(hosts)
    authority = _Authority.new(datetime.datetime.now(datetime.UTC))
    ca_file = network_dir / CA_FILE
    _write_cert(ca_file, authority.cert)
    _write_key(network_dir / CA_KEY, authority.key)
    etcd: dict[str, tuple[Path, Path]] = {}
    for member in etcd_members:
        etcd[member] = etcd_cert_paths(network_dir, member)
        authority.issue(f"etcd member {member}", hosts, *etcd[member])
    nodes = {node_id: _issue_node(authority, network_dir, node_id, hosts) for node_id in node_ids}
    return NetworkPki(ca_file, etcd, nodes)


def has_local_ca(network_dir: Path) -> bool:
    """Whether the directory holds the CA of ``init_network_pki`` (key included)."""
    return (network_dir / CA_FILE).exists() and (network_dir / CA_KEY).exists()


def issue_node_cert(
    network_dir: Path, node_id: str, hosts: Iterable[str] = ("127.0.0.1", "localhost")
) -> tuple[Path, Path]:
    """A certificate of the network's local CA for a peer added later (``network add-peer``)."""
    authority = _Authority.load(network_dir, datetime.datetime.now(datetime.UTC))
    return _issue_node(authority, network_dir, node_id, tuple(hosts))


def _issue_node(
    authority: _Authority, network_dir: Path, node_id: str, hosts: tuple[str, ...]
) -> tuple[Path, Path]:
    node = network_dir / "nodes" / node_id
    authority.issue(f"peer {node_id}", hosts, node / NODE_CERT, node / NODE_KEY)
    _write_cert(node / CA_FILE, authority.cert)
    return node / NODE_CERT, node / NODE_KEY
