#!/usr/bin/env python3
"""Lint: no side effects inside assert/precondition (their arguments are not evaluated in
every build configuration, so a call there that does work changes behaviour between builds).

Flags an argument of assert, assertionFailure, precondition or preconditionFailure that
passes `&x` (inout), assigns (`=`, `+=`, ...), uses `try`, or calls a mutating method name.
Exit 1 with file:line for each, 0 when clean. Usage: scripts/lint.py [DIR...]
"""
import os, re, sys

CALL = re.compile(r'\b(assert|precondition|assertionFailure|preconditionFailure)\s*\(')
INOUT = re.compile(r'(^|[(,\s])&[A-Za-z_]')
ASSIGN = re.compile(r'(?<![=!<>+\-*/%&|^])(=|\+=|-=|\*=|/=|%=|&=|\|=|\^=|<<=|>>=)(?!=)')
MUTATING = re.compile(r'\.(append|insert|remove\w*|pop\w*|update\w*|next|write\w*|read\w*|sort|reverse|shuffle|formUnion|formIntersection|subtract)\s*\(')
TRY = re.compile(r'\btry\b')

def argument_text(text, start):
    """The text between the call's opening parenthesis at `start` and its match."""
    depth, i, in_string = 0, start, False
    while i < len(text):
        c = text[i]
        if in_string:
            if c == '\\': i += 1
            elif c == '"': in_string = False
        elif c == '"': in_string = True
        elif c == '(': depth += 1
        elif c == ')':
            depth -= 1
            if depth == 0: return text[start + 1:i]
        i += 1
    return text[start + 1:]

def strip_strings(s):
    return re.sub(r'"(\\.|[^"\\])*"', '""', s)

def check(path):
    text = open(path, encoding='utf-8').read()
    problems = []
    for m in CALL.finditer(text):
        line_start = text.rfind('\n', 0, m.start()) + 1
        if text[line_start:m.start()].lstrip().startswith('//'): continue
        arg = strip_strings(argument_text(text, m.end() - 1))
        for name, pattern in (('inout argument', INOUT), ('assignment', ASSIGN),
                              ('mutating call', MUTATING), ('try', TRY)):
            if pattern.search(arg):
                line = text.count('\n', 0, m.start()) + 1
                problems.append(f'{path}:{line}: {m.group(1)} with a side effect ({name}): move the work out of the check')
                break
    return problems

def main():
    roots = sys.argv[1:] or ['Sources']
    problems = []
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for f in sorted(files):
                if f.endswith('.swift'): problems += check(os.path.join(dirpath, f))
    for p in problems: print(p)
    if problems: sys.exit(1)
    print(f'lint: no side effects in assert/precondition under {", ".join(roots)}')

if __name__ == '__main__':
    main()
