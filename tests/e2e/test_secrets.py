"""ca_cert, client_cert and client_key: never returned, sealed at rest (AES-256-GCM), absent from
the rest of the database, from error bodies and from the logs."""

import glob
import os

import pytest

from bwtest import (
    CERT_FIELDS, ENDPOINT, b64, gateway_row, json_ok, pem_bytes, pem_for,
)

TEXT_TYPES = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "binary",
              "varbinary", "tinyblob", "blob", "mediumblob", "longblob")


def _secret_set():
    plain = {
        "ca_cert": pem_bytes(1500, "CERTIFICATE"),
        "client_cert": pem_bytes(1300, "CERTIFICATE"),
        "client_key": pem_bytes(1700, "PRIVATE KEY"),
    }
    return plain, {field: b64(data) for field, data in plain.items()}


def _needles(plain, texts):
    """Distinctive pieces of every secret (random content, so unique to this test)."""
    needles = []
    for field in CERT_FIELDS:
        data, text = plain[field], texts[field].encode()
        body = data[data.index(b"\n") + 1:]
        needles += [body[i:i + 24] for i in range(0, len(body) - 24, 150)]
        needles += [text[i:i + 24] for i in range(40, len(text) - 24, 150)]
    return needles


def _columns(db):
    with db.cursor() as cur:
        cur.execute("SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS "
                    "WHERE TABLE_SCHEMA = DATABASE() AND DATA_TYPE IN %s", (TEXT_TYPES,))
        return [(row["t"], row["c"]) for row in cur.fetchall()]


def _assert_nowhere_in_db(db, needles):
    condition = " OR ".join(["INSTR(`{c}`, %s) > 0"] * len(needles))
    with db.cursor() as cur:
        for table, column in _columns(db):
            cur.execute(f"SELECT COUNT(*) AS n FROM `{table}` WHERE "
                        + condition.format(c=column), needles)
            assert cur.fetchone()["n"] == 0, f"secret material found in {table}.{column}"


def test_secrets_are_never_returned(api, unique_name):
    name = unique_name()
    plain, texts = _secret_set()
    resp = api.register(dict(name=name, endpoint=ENDPOINT, **texts))
    gw = json_ok(resp, 201)
    assert (gw["has_ca_cert"], gw["has_client_cert"], gw["has_client_key"]) == (True,) * 3
    info = api.info(name)
    listed = api.list()
    json_ok(info)
    json_ok(listed)
    for answer in (resp, info, listed):
        for field in CERT_FIELDS:
            assert texts[field][40:80] not in answer.text, field
        assert "-----BEGIN" not in answer.text
    for obj in (gw, info.json()):
        assert not set(CERT_FIELDS) & set(obj), obj


def test_secrets_are_sealed_in_their_columns(api, db, unique_name):
    name = unique_name()
    plain, texts = _secret_set()
    json_ok(api.register(dict(name=name, endpoint=ENDPOINT, **texts)), 201)
    row = gateway_row(db, name)
    for field in CERT_FIELDS:
        sealed = bytes(row[field])
        data, text = plain[field], texts[field].encode()
        assert len(sealed) >= len(data) + 16, f"{field}: too short for AES-GCM ciphertext + tag"
        assert data not in sealed and text not in sealed, field
        assert b"-----BEGIN" not in sealed and b"PRIVATE KEY" not in sealed, field
        for i in range(0, len(data) - 16, 64):
            assert data[i:i + 16] not in sealed, f"{field}: plaintext bytes at {i}"
        for i in range(0, len(text) - 16, 64):
            assert text[i:i + 16] not in sealed, f"{field}: base64 text at {i}"
    assert len({bytes(row[f]) for f in CERT_FIELDS}) == 3


def test_secret_material_is_nowhere_in_the_database(api, db, unique_name):
    name = unique_name()
    plain, texts = _secret_set()
    body = dict(name=name, endpoint=ENDPOINT, description="has secrets", labels={"s": "1"},
                **texts)
    json_ok(api.register(body), 201)
    json_ok(api.patch_gateway(name, {"description": "still has secrets"}))
    _assert_nowhere_in_db(db, _needles(plain, texts))
    json_ok(api.delete_gateway(name))
    _assert_nowhere_in_db(db, _needles(plain, texts))


def test_sealing_is_randomised(api, db, unique_name):
    plain, texts = _secret_set()
    one, two = unique_name(), unique_name()
    json_ok(api.register(dict(name=one, endpoint=ENDPOINT, **texts)), 201)
    json_ok(api.register(dict(name=two, endpoint=ENDPOINT, **texts)), 201)
    row_one, row_two = gateway_row(db, one), gateway_row(db, two)
    for field in CERT_FIELDS:
        assert bytes(row_one[field]) != bytes(row_two[field]), \
            f"{field}: equal plaintexts sealed to equal bytes (nonce reuse?)"


@pytest.mark.parametrize("given", CERT_FIELDS)
def test_has_flags_follow_each_field(api, db, unique_name, given):
    name = unique_name()
    gw = json_ok(api.register({"name": name, "endpoint": ENDPOINT,
                               given: b64(pem_for(given, 200))}), 201)
    row = gateway_row(db, name)
    for field in CERT_FIELDS:
        assert gw[f"has_{field}"] is (field == given), gw
        assert (row[field] is not None) is (field == given), field
    info = json_ok(api.info(name))
    for field in CERT_FIELDS:
        assert info[f"has_{field}"] is (field == given), info


@pytest.mark.parametrize("spoil,status", [
    ({"description": "d" * 1001}, 400),
    ({"labels": {"-bad": "v"}}, 400),
    ({"labels": ["x"]}, 422),
    ({"endpoint": "no endpoint"}, 422),
])
def test_errors_do_not_echo_secrets(api, unique_name, spoil, status):
    plain, texts = _secret_set()
    body = dict(name=unique_name(), endpoint=ENDPOINT, **texts)
    body.update(spoil)
    resp = api.register(body)
    assert resp.status_code == status, resp.text
    for field in CERT_FIELDS:
        assert texts[field][40:80] not in resp.text, field


def test_secrets_are_not_logged(api, unique_name):
    run_dir = os.environ.get("BW_RUN_DIR")
    logs = sorted(glob.glob(os.path.join(run_dir, "log", "*"))) if run_dir else []
    if not logs:
        pytest.skip("no log files under $BW_RUN_DIR/log")
    plain, texts = _secret_set()
    name = unique_name()
    json_ok(api.register(dict(name=name, endpoint=ENDPOINT, **texts)), 201)
    api.register(dict(name=unique_name(), endpoint="bad", **texts))  # a 422 with secrets too
    json_ok(api.info(name))
    needles = _needles(plain, texts)
    for path in logs:
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            content = f.read()
        for needle in needles:
            assert needle not in content, f"secret material in {path}"
