"""A real SMTP server for depot's tests (aiosmtpd): every message it accepts is written, as
received, to a file of its own in a directory the tests read.

    python boite_smtp.py HOST PORT DIRECTORY

A recipient whose local part starts with "refuse" gets a permanent refusal (550), as a
mail server does for an unknown mailbox.
"""

import asyncio
import os
import sys
import time
import uuid

from aiosmtpd.controller import Controller


class Boite:
    def __init__(self, repertoire):
        self.repertoire = repertoire

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("refuse"):
            return "550 5.1.1 boite inconnue"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        nom = f"{time.time_ns()}-{uuid.uuid4().hex}.eml"
        temporaire = os.path.join(self.repertoire, "." + nom)
        with open(temporaire, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(temporaire, os.path.join(self.repertoire, nom))
        return "250 Message accepted for delivery"


def main():
    hote, port, repertoire = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(repertoire, exist_ok=True)
    controleur = Controller(
        Boite(repertoire), hostname=hote, port=port, enable_SMTPUTF8=True, decode_data=False
    )
    controleur.start()
    print(f"boite_smtp on {hote}:{port}, messages in {repertoire}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controleur.stop()


if __name__ == "__main__":
    main()
