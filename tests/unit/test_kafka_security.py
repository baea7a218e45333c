"""SSL and SASL settings reach every Kafka client: ours and faust's."""

from __future__ import annotations

import ssl

import faust
from pydantic import SecretStr

from herald_common.kafka import connection_options
from herald_common.settings import KafkaSettings
from herald_inserter.app import broker_credentials

SCRAM_OVER_TLS = KafkaSettings(
    bootstrap="kafka:9093",
    security_protocol="SASL_SSL",
    sasl_mechanism="SCRAM-SHA-512",
    sasl_username="herald-inserter",
    sasl_password=SecretStr("s3cret"),
)


def test_plaintext_needs_no_tls_context() -> None:
    options = connection_options(KafkaSettings(bootstrap="kafka:9092"))
    assert options["security_protocol"] == "PLAINTEXT"
    assert "ssl_context" not in options
    assert "sasl_mechanism" not in options


def test_sasl_ssl_gets_a_verifying_tls_context_and_the_credentials() -> None:
    options = connection_options(SCRAM_OVER_TLS)
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "herald-inserter"
    assert options["sasl_plain_password"] == "s3cret"


def test_faust_gets_the_same_credentials_as_the_inserter_producer() -> None:
    credentials = broker_credentials(SCRAM_OVER_TLS)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.username == "herald-inserter"
    assert credentials.password == "s3cret"
    assert isinstance(credentials.ssl_context, ssl.SSLContext)


def test_faust_without_security_settings_stays_on_plaintext() -> None:
    assert broker_credentials(KafkaSettings(bootstrap="kafka:9092")) is None
    tls_only = broker_credentials(KafkaSettings(bootstrap="kafka:9093", security_protocol="SSL"))
    assert isinstance(tls_only, faust.SSLCredentials)
