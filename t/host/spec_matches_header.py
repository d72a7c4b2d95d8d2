#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""genl-spec/etmem.yaml validates against the kernel's genetlink schema and
agrees with include/uapi/linux/etmem.h, names and numbers.

The kernel's own generator (ynl-gen-c --mode uapi) renders the spec into a
UAPI header; every constant of either header (enumerators and #defines) is
then evaluated by the C compiler against both headers and compared.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import jsonschema
import yaml

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SPEC = os.path.join(TOP, 'genl-spec', 'etmem.yaml')
HEADER = os.path.join(TOP, 'include', 'uapi', 'linux', 'etmem.h')
KSRC = os.environ.get('ETMEM_KERNEL_SRC', '/usr/local/share/etmem/kernel-src')
SCHEMA = os.path.join(KSRC, 'Documentation', 'netlink', 'genetlink.yaml')
YNL = os.path.join(KSRC, 'tools', 'net', 'ynl')


def fail(msg):
    print(f'not ok - {msg}')
    sys.exit(1)


def validate():
    with open(SCHEMA) as f:
        schema = yaml.safe_load(f)
    with open(SPEC) as f:
        first = f.readline()
        f.seek(0)
        spec = yaml.safe_load(f)
    if not first.startswith('# SPDX-License-Identifier:'):
        fail('the spec does not start with an SPDX line')
    try:
        jsonschema.validate(spec, schema)
    except jsonschema.ValidationError as e:
        fail(f'spec does not validate against {SCHEMA}: {e.message}')
    print('ok - spec validates against genetlink.yaml')


def generate(tmp):
    """Render the spec as a UAPI header with ynl-gen-c. It expects a kernel
    tree: the schema next to the spec's parent directory and a MAINTAINERS
    file above the spec (it loops forever without one), so stage those."""
    os.makedirs(os.path.join(tmp, 'specs'))
    open(os.path.join(tmp, 'MAINTAINERS'), 'w').close()
    shutil.copy(SCHEMA, tmp)
    spec = os.path.join(tmp, 'specs', 'etmem.yaml')
    shutil.copy(SPEC, spec)
    out = os.path.join(tmp, 'generated.h')
    r = subprocess.run([sys.executable, os.path.join(YNL, 'ynl-gen-c.py'),
                        '--mode', 'uapi', '--header', '--spec', spec, '-o', out],
                       capture_output=True, text=True, timeout=120)
    if r.returncode:
        fail(f'ynl-gen-c failed: {r.stderr.strip()[-400:]}')
    return out


def constants(path):
    """Names of enumerators and object-like #defines (guards excluded)."""
    text = open(path).read()
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    names = set()
    for body in re.findall(r'enum\s*\w*\s*\{(.*?)\}', text, flags=re.S):
        for item in body.split(','):
            m = re.match(r'\s*([A-Za-z_]\w*)', item)
            if m:
                names.add(m.group(1))
    for name, value in re.findall(r'#define\s+([A-Z_]\w*)[ \t]+(\S.*)', text):
        names.add(name)
    return names


def evaluate(header, names, tmp):
    """Value of each name under @header, None for the missing ones."""
    src = os.path.join(tmp, 'eval.c')
    with open(src, 'w') as f:
        f.write('#include <stdio.h>\n#include "%s"\n' % header)
        f.write('static void str(const char *n, const char *v) { printf("%s=\\"%s\\"\\n", n, v); }\n')
        f.write('static void num(const char *n, long long v) { printf("%s=%lld\\n", n, v); }\n')
        f.write('#define SHOW(n) _Generic((n), char *: str, const char *: str, default: num)(#n, n)\n')
        f.write('int main(void) {\n')
        for n in sorted(names):
            f.write(' SHOW(%s);\n' % n)
        f.write(' return 0;\n}\n')
    values = {}
    # A name missing from the header fails to compile: find them one by one.
    exe = os.path.join(tmp, 'eval')
    r = subprocess.run(['cc', '-w', '-o', exe, src], capture_output=True, text=True,
                       env=dict(os.environ, LC_ALL='C'))
    if r.returncode:
        missing = set(re.findall(r"'(\w+)' undeclared", r.stderr))
        if not missing:
            fail(f'cannot compile against {header}: {r.stderr[:400]}')
        for n in missing:
            values[n] = None
        present = evaluate(header, names - missing, tmp)
        present.update(values)
        return present
    out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        k, v = line.split('=', 1)
        values[k] = v
    return values


def main():
    validate()
    with tempfile.TemporaryDirectory() as tmp:
        gen = generate(tmp)
        names = constants(gen) | constants(HEADER)
        names -= {n for n in names if n.startswith('_UAPI_') or n.endswith('_H')}
        want = evaluate(gen, names, tmp)
        have = evaluate(HEADER, names, tmp)
    bad = 0
    for n in sorted(names):
        if want.get(n) != have.get(n):
            print(f'# {n}: spec {want.get(n)}, header {have.get(n)}')
            bad += 1
    if bad:
        fail(f'{bad} constants differ between the spec and {HEADER}')
    print(f'ok - spec and header agree on {len(names)} constants')


if __name__ == '__main__':
    main()
