"""Checks an OpenAPI 3.1 document (the JSON file named by argv[1]) with tools other than the
project's own: openapi-spec-validator (the document against the OpenAPI 3.1 schema, with each
`pattern` compiled by Python's `re`), and every `pattern` compiled by Rust's regex through
jsonschema-rs, the engines contract fuzzers such as schemathesis use. Prints a JSON array of
problems, each `{"where": JSON pointer, "message": ...}`; empty when the document passes.
Run by `stack/openapi_validator.ts` in the venv it installs."""
import json
import re
import sys

import jsonschema_rs
from openapi_spec_validator import OpenAPIV31SpecValidator


def pointer(path):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def patterns(value, path=()):
    """Every `pattern` keyword's string, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "pattern" and isinstance(item, str):
                yield path + (key,), item
            else:
                yield from patterns(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from patterns(item, path + (i,))


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    problems = []
    for error in OpenAPIV31SpecValidator(doc).iter_errors():
        first_line = error.message.splitlines()[0]
        problems.append({"where": pointer(error.absolute_path), "message": first_line})
    for path, source in patterns(doc):
        try:
            re.compile(source)
        except re.error as error:
            problems.append({"where": pointer(path), "message": f"Python re: {error}"})
        try:
            jsonschema_rs.validator_for({"pattern": source})
        except jsonschema_rs.ValidationError as error:
            first_line = str(error).splitlines()[0]
            problems.append({"where": pointer(path), "message": f"Rust regex: {first_line}"})
    json.dump(problems, sys.stdout, indent=1)


main()
