"""python3 -m fibseg.distributed PARAMS (--scheduler-file FILE | --scheduler ADDRESS | --local N)

Prints the same progress lines and summary as `fibseg run` (on stderr, as it does)."""
import argparse
import os
import sys

from . import cluster, run


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m fibseg.distributed",
                                     description="Run fibseg on dask.distributed workers (the same outputs as "
                                                 "`fibseg run`).")
    parser.add_argument("params", help="parameter file (.toml or .xlsx), as for `fibseg run`")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--scheduler-file", help="the JSON file dask-scheduler --scheduler-file wrote")
    where.add_argument("--scheduler", help="the scheduler's address, e.g. tcp://node1:8786")
    where.add_argument("--local", type=int, metavar="N", help="start a LocalCluster of N worker processes")
    parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run")
    parser.add_argument("--no-resume", action="store_true",
                        help="start afresh even when an interrupted run of the same parameters is in the folder")
    args = parser.parse_args(argv)

    def say(line):
        print(line, file=sys.stderr, flush=True)

    client = None
    try:
        if args.local is None:
            client = cluster.connect(args.scheduler, args.scheduler_file)
        summary = run(args.params, client, progress=say, overwrite=args.overwrite, resume=not args.no_resume,
                      workers=args.local or 2)
    except (RuntimeError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
    return 0 if summary else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
