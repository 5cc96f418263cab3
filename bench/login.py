"""Login timing: does a wrong password take as long for an unknown address as for a known one?

`python -m bench.login` logs in with a wrong password, alternating a member's address and an
address with no account, through the real login form with the production password hash
(scrypt), and prints the medians and their ratio. A ratio near 1 means the time of a
refusal does not tell which addresses have accounts.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from logistics import create_app
from logistics.extensions import db
from logistics.services import accounts

ROUNDS = 15


def measure(rounds: int = ROUNDS) -> dict[str, float]:
    """Return the median milliseconds of refused logins for a known and an unknown address."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "INSTANCE_DIR": folder,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'login.sqlite3'}",
                "WTF_CSRF_ENABLED": False,
                # Enough failures never to lock either address during the run.
                "LOGIN_MAX_FAILURES": 10 * rounds,
            }
        )
        with app.app_context():
            db.create_all()
            organisation = accounts.create_organisation("Calais Aid", "calais-aid")
            accounts.add_member(organisation.id, "ana@example.org", "warehouse", password="x" * 12)
            db.session.commit()
            client = app.test_client()
            times: dict[str, list[float]] = {"known": [], "unknown": []}
            for _ in range(rounds + 1):  # the first round warms up and is dropped
                for label, email in (("known", "ana@example.org"), ("unknown", "no@example.org")):
                    started = time.perf_counter()
                    response = client.post("/login", data={"email": email, "password": "wrong"})
                    times[label].append(time.perf_counter() - started)
                    assert response.status_code == 401
            db.session.remove()
            db.engine.dispose()
    return {label: statistics.median(values[1:]) * 1000 for label, values in times.items()}


def main() -> None:
    """Print the two medians and their ratio."""
    medians = measure()
    ratio = medians["unknown"] / medians["known"]
    print(
        f"Refused login, median of {ROUNDS}: known address {medians['known']:.1f} ms, "
        f"unknown address {medians['unknown']:.1f} ms, ratio {ratio:.2f}"
    )


if __name__ == "__main__":
    main()
