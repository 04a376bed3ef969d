"""SecureBase landing zone: one YAML file per customer, deployed with `pulumi up`."""

from pathlib import Path

from securebase.program import run

run(Path(__file__).resolve().parent)
