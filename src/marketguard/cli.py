"""The `marketguard` command: demo, serve, worker, seed, import, token, audit, and every
Django management command (migrate, createsuperuser, ...)."""

from __future__ import annotations

import os
import sys

USAGE = """usage: marketguard COMMAND [options]

  demo                      migrate, load demo data, start web server and worker, print logins
  serve [--port 8000]       run the web server (gunicorn)
  worker                    run background tasks and periodic sweeps
  seed --scale small|medium|large --seed N
  import KIND FILE          upsert CSV or Parquet rows (KIND: categories, merchants, stores, products,
                            buyers, orders, order_items, shipments)
  token create --user NAME  print a new API bearer token
  audit verify              check the audit trail's hash chain
  <django command>          e.g. migrate, createsuperuser, check --deploy

`marketguard COMMAND --help` shows the options of a command.
"""


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketguard.settings")
    if len(argv) < 2 or argv[1] in {"-h", "--help", "help"}:
        print(USAGE)
        return
    argv[0] = "marketguard"
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
