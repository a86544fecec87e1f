"""``python -m homecare_cli``: the ``homecare`` command line."""

from homecare_cli.main import main

if __name__ == "__main__":
    main()
