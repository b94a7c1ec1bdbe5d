"""``cofail export``: a results file as tidy CSV tables for spreadsheets."""

from __future__ import annotations

from .common import add_command, emit_json, input_file, output_dir

EXAMPLES = """\
  cofail certify results.csv --out cert.h5 && cofail export cert.h5 --csv cert_tables/
  cofail export sweep.h5 --csv tables/ --json
"""


def add_parser(sub) -> None:
    p = add_command(
        sub,
        "export",
        help="turn an HDF5 results file into tidy CSV tables",
        description="Write every group of a results file (written by any command's --out) as "
        "tidy CSV tables: one table per group and set of dimensions, one row per "
        "combination of dimension values (query, model, pool_size, ...), one column "
        "per variable. scalars.csv is the long table of the headline numbers (group, "
        "variable, value and, where the file has one, its interval lower/upper); "
        "attributes.csv lists the text attributes, including the provenance (versions, "
        "seed, command, input hash) at the root.",
        examples=EXAMPLES,
    )
    p.add_argument("results", type=input_file, metavar="RESULTS.h5", help="an HDF5 results file")
    p.add_argument(
        "--csv", type=output_dir, required=True, metavar="DIR",
        help="folder for the CSV tables (created)"
    )
    p.add_argument("--json", action="store_true", help="print a JSON list of the tables written")
    p.set_defaults(func=run)


def run(args) -> int:
    import os

    from .._src.h5 import provenance
    from .._src.io.export import export_csv, results_tables

    tables = results_tables(args.results)
    written = export_csv(args.results, args.csv)
    if args.json:
        prov = provenance(
            input_path=args.results,
            method="export",
            config={"results": args.results, "csv": args.csv},
        )
        emit_json(
            "export",
            {
                "tables": [
                    {
                        "path": p,
                        "columns": tables[os.path.splitext(os.path.basename(p))[0]][0],
                        "rows": len(tables[os.path.splitext(os.path.basename(p))[0]][1]),
                    }
                    for p in written
                ]
            },
            prov,
        )
        return 0
    for p in written:
        name = os.path.splitext(os.path.basename(p))[0]
        print(f"wrote {p} ({len(tables[name][1])} rows: {', '.join(tables[name][0])})")
    return 0
