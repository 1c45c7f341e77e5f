"""Notifications of record status changes (SPEC §7), away from the screen.

- gate.py     which changes are worth a message: `unknown_after` holds back changes to
              and from unknown until they held that many checks
- message.py  the text of one message for one or several changes (DNS data escaped)
- sender.py   `Notifier`: groups changes arriving within a few seconds and sends them
              through Apprise on a thread of its own; a failing service is reported once
- terminal.py the desktop notification through the terminal (OSC 9 / OSC 777 and BEL)
"""
