"""The expression language of expr nodes (spec 02 §6): tokenizer, parser, checks and compiler.

An expression is parsed once into a small immutable tree, checked against the model's node ids,
and compiled into a tree of closures that compute a whole series at a time with numpy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Union

import numpy as np

from runs.errors import Issue, ModelError

# Parentheses, unary minus and calls nest the tree; chains of + - * / do not (they are flat), so
# this bound keeps checking, compiling and evaluating far from Python's recursion limit.
MAX_NESTING = 100

FUNCTION_ARITY: dict[str, tuple[int, int | None]] = {
    "SHIFT": (2, 2),
    "MIN": (2, None),
    "MAX": (2, None),
    "CLAMP": (3, 3),
    "ABS": (1, 1),
}


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    text: str
    pos: int


@dataclass(frozen=True, slots=True)
class Ref:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class Chain:
    """``first op1 x1 op2 x2 …`` folded left; all operators share one precedence level."""

    first: Expr
    rest: tuple[tuple[str, Expr], ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    arg_pos: tuple[int, ...]
    pos: int


Expr = Union[Number, Ref, Neg, Chain, Call]  # noqa: UP007 - used at runtime before 3.12 aliases


class ExpressionSyntaxError(ModelError):
    """An expression that does not parse; ``position`` is the 0-based offset of the culprit."""

    def __init__(self, message: str, position: int) -> None:
        self.message = message
        self.position = position
        super().__init__((Issue("expr_syntax", "", message, position=position),), message)


# --- tokenizer ---------------------------------------------------------------------------------

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DIGITS = re.compile(r"[0-9]+")
_SPACE = re.compile(r"\s*")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "num", "ident", "op", "(", ")", ",", "end"
    text: str
    pos: int


def _scan_number(text: str, start: int) -> tuple[str, int]:
    m = _DIGITS.match(text, start)
    assert m is not None
    i = m.end()
    n = len(text)
    if i < n and text[i] == ".":
        m = _DIGITS.match(text, i + 1)
        if m is None:
            raise ExpressionSyntaxError("Expected digit after decimal point", i + 1)
        i = m.end()
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        m = _DIGITS.match(text, j)
        if m is None:
            raise ExpressionSyntaxError("Expected digit in exponent", j)
        i = m.end()
    return text[start:i], i


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    n = len(text)
    while True:
        m = _SPACE.match(text, i)
        i = m.end() if m else i
        if i >= n:
            tokens.append(_Token("end", "", n))
            return tokens
        c = text[i]
        if "0" <= c <= "9":
            num, end = _scan_number(text, i)
            tokens.append(_Token("num", num, i))
            i = end
        elif c == "_" or ("A" <= c <= "Z") or ("a" <= c <= "z"):
            m2 = _IDENT.match(text, i)
            assert m2 is not None
            tokens.append(_Token("ident", m2.group(), i))
            i = m2.end()
        elif c in "+-*/":
            tokens.append(_Token("op", c, i))
            i += 1
        elif c in "(),":
            tokens.append(_Token(c, c, i))
            i += 1
        else:
            raise ExpressionSyntaxError(f"Unexpected character '{c}'", i)


# --- parser ------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def unexpected(self, tok: _Token) -> ExpressionSyntaxError:
        if tok.kind == "end":
            return ExpressionSyntaxError("Unexpected end of expression", tok.pos)
        return ExpressionSyntaxError(f"Unexpected character '{tok.text[0]}'", tok.pos)

    def nest(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExpressionSyntaxError(f"Expression nests deeper than {MAX_NESTING} levels", pos)

    def expr(self) -> Expr:
        return self._chain(self.term, "+-")

    def term(self) -> Expr:
        return self._chain(self.unary, "*/")

    def _chain(self, operand: Callable[[], Expr], ops: str) -> Expr:
        first = operand()
        rest: list[tuple[str, Expr]] = []
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.text in ops:
                self.take()
                rest.append((tok.text, operand()))
            else:
                break
        if not rest:
            return first
        return Chain(first, tuple(rest), first.pos)

    def unary(self) -> Expr:
        tok = self.peek()
        if tok.kind == "op" and tok.text == "-":
            self.take()
            self.nest(tok.pos)
            operand = self.unary()
            self.depth -= 1
            return Neg(operand, tok.pos)
        return self.primary()

    def primary(self) -> Expr:
        tok = self.take()
        if tok.kind == "num":
            return Number(float(tok.text), tok.text, tok.pos)
        if tok.kind == "ident":
            if self.peek().kind == "(":
                self.take()
                return self.call(tok)
            return Ref(tok.text, tok.pos)
        if tok.kind == "(":
            self.nest(tok.pos)
            inner = self.expr()
            self.expect_close()
            self.depth -= 1
            return inner
        raise self.unexpected(tok)

    def call(self, name: _Token) -> Call:
        self.nest(name.pos)
        args: list[Expr] = []
        arg_pos: list[int] = []
        if self.peek().kind == ")":
            self.take()
        else:
            while True:
                arg_pos.append(self.peek().pos)
                args.append(self.expr())
                tok = self.peek()
                if tok.kind == ",":
                    self.take()
                    continue
                self.expect_close()
                break
        self.depth -= 1
        return Call(name.text, tuple(args), tuple(arg_pos), name.pos)

    def expect_close(self) -> None:
        tok = self.take()
        if tok.kind != ")":
            raise ExpressionSyntaxError("Expected ')'", tok.pos)


def parse_expression(text: str) -> Expr:
    """Parse an expression (spec 02 §6) into its tree.

    Raises ``ExpressionSyntaxError`` (a ``ModelError`` with one ``expr_syntax`` issue) whose
    ``position`` is the 0-based offset of the offending character.
    """
    parser = _Parser(_tokenize(text))
    tree = parser.expr()
    tok = parser.peek()
    if tok.kind != "end":
        raise parser.unexpected(tok)
    return tree


def format_tree(tree: Expr) -> str:
    """The tree fully parenthesised, e.g. ``((a - b) - c)``; shows how the parser grouped it."""
    if isinstance(tree, Number):
        return tree.text
    if isinstance(tree, Ref):
        return tree.name
    if isinstance(tree, Neg):
        return f"(-{format_tree(tree.operand)})"
    if isinstance(tree, Chain):
        acc = format_tree(tree.first)
        for op, operand in tree.rest:
            acc = f"({acc} {op} {format_tree(operand)})"
        return acc
    return f"{tree.name.upper()}({', '.join(format_tree(a) for a in tree.args)})"


# --- checks ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExpressionProblem:
    code: str
    message: str
    position: int


def _children(tree: Expr) -> Sequence[Expr]:
    if isinstance(tree, Neg):
        return (tree.operand,)
    if isinstance(tree, Chain):
        return (tree.first, *(operand for _, operand in tree.rest))
    if isinstance(tree, Call):
        return tree.args
    return ()


def check_expression(tree: Expr, node_ids: Mapping[str, object] | set[str]) -> list[ExpressionProblem]:
    """Every function, arity, SHIFT lag and reference problem of a parsed tree, left to right."""
    problems: list[ExpressionProblem] = []

    def visit(node: Expr) -> None:
        if isinstance(node, Ref):
            if node.name not in node_ids:
                problems.append(ExpressionProblem("node_unknown", f"Unknown node: {node.name}", node.pos))
            return
        if isinstance(node, Call):
            upper = node.name.upper()
            arity = FUNCTION_ARITY.get(upper)
            if arity is None:
                problems.append(
                    ExpressionProblem("function_unknown", f"Unknown function: {node.name}", node.pos)
                )
            else:
                low, high = arity
                n = len(node.args)
                if n < low or (high is not None and n > high):
                    wanted = f"{low}" if low == high else f"at least {low}"
                    problems.append(
                        ExpressionProblem(
                            "function_arity",
                            f"{upper} takes {wanted} argument{'s' if low != 1 else ''}, got {n}",
                            node.pos,
                        )
                    )
                elif upper == "SHIFT":
                    lag = node.args[1]
                    if not (isinstance(lag, Number) and lag.text.isdigit()) or lag.pos != node.arg_pos[1]:
                        problems.append(
                            ExpressionProblem(
                                "shift_lag_invalid",
                                "SHIFT lag must be a non-negative integer literal",
                                node.arg_pos[1],
                            )
                        )
                    visit(node.args[0])
                    return
        for child in _children(node):
            visit(child)

    visit(tree)
    return problems


def expression_inputs(tree: Expr) -> list[str]:
    """The distinct node ids the tree references, in order of first appearance."""
    seen: dict[str, None] = {}

    def visit(node: Expr) -> None:
        if isinstance(node, Ref):
            seen.setdefault(node.name, None)
            return
        for child in _children(node):
            visit(child)

    visit(tree)
    return list(seen)


# --- compiler ----------------------------------------------------------------------------------

Value = Union[np.ndarray, float]  # noqa: UP007
Program = Callable[[Mapping[str, np.ndarray]], Value]


def _divide(a: Value, b: Value) -> Value:
    # x/±0 is 0 whatever x is (even NaN); a NaN divisor still gives NaN because NaN != 0.
    if np.ndim(b) == 0:
        bf = float(b)
        if bf == 0.0:
            return np.zeros_like(a, dtype=np.float64) if np.ndim(a) else 0.0
        return np.divide(a, bf)
    b_arr = np.asarray(b)
    out = np.zeros(np.broadcast_shapes(np.shape(a), b_arr.shape), dtype=np.float64)
    np.divide(a, b_arr, out=out, where=b_arr != 0)
    return out


_BINARY: dict[str, Callable[[Value, Value], Value]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": _divide,
}


def _constant(value: float) -> Program:
    def run(env: Mapping[str, np.ndarray]) -> Value:
        return value

    return run


def compile_expression(tree: Expr, bins: int) -> Program:
    """Compile a checked tree into a closure computing its value from the input series.

    The closure returns an array of length ``bins`` or a scalar (a constant expression); it never
    raises on numeric problems when run under ``np.errstate(all="ignore")``.
    """
    # Constant subtrees are folded here, so numeric warnings must be silenced here too.
    with np.errstate(all="ignore"):
        program, _ = _compile(tree, bins)
    return program


def _compile(tree: Expr, bins: int) -> tuple[Program, float | None]:
    """The closure, plus the value when the subtree is a constant (folded at compile time)."""
    if isinstance(tree, Number):
        return _constant(tree.value), tree.value
    if isinstance(tree, Ref):
        name = tree.name

        def ref(env: Mapping[str, np.ndarray]) -> Value:
            return env[name]

        return ref, None
    if isinstance(tree, Neg):
        inner, const = _compile(tree.operand, bins)
        if const is not None:
            value = float(np.negative(np.float64(const)))
            return _constant(value), value

        def neg(env: Mapping[str, np.ndarray]) -> Value:
            return np.negative(inner(env))

        return neg, None
    if isinstance(tree, Chain):
        return _compile_chain(tree, bins)
    return _compile_call(tree, bins)


def _compile_chain(tree: Chain, bins: int) -> tuple[Program, float | None]:
    first, first_const = _compile(tree.first, bins)
    steps: list[tuple[Callable[[Value, Value], Value], Program, float | None]] = []
    for op, operand in tree.rest:
        prog, const = _compile(operand, bins)
        steps.append((_BINARY[op], prog, const))
    if first_const is not None and all(const is not None for _, _, const in steps):
        acc: Value = np.float64(first_const)
        for fn, _, const in steps:
            acc = fn(acc, np.float64(const))
        value = float(acc)
        return _constant(value), value
    ops = tuple((fn, prog) for fn, prog, _ in steps)

    def chain(env: Mapping[str, np.ndarray]) -> Value:
        acc = first(env)
        for fn, prog in ops:
            acc = fn(acc, prog(env))
        return acc

    return chain, None


def _shift(bins: int, lag: int, arg: Program) -> Program:
    def shift(env: Mapping[str, np.ndarray]) -> Value:
        value = arg(env)
        out = np.zeros(bins, dtype=np.float64)
        if lag < bins:
            # A constant argument broadcasts; an array is cut to the bins that stay in range.
            out[lag:] = value if isinstance(value, float) else np.asarray(value)[: bins - lag]
        return out

    return shift


def _fold(fn: Callable[[Value, Value], Value], args: Sequence[Program]) -> Program:
    head, tail = args[0], tuple(args[1:])

    def fold(env: Mapping[str, np.ndarray]) -> Value:
        acc = head(env)
        for prog in tail:
            acc = fn(acc, prog(env))
        return acc

    return fold


def _compile_call(tree: Call, bins: int) -> tuple[Program, float | None]:
    name = tree.name.upper()
    if name == "SHIFT":
        arg, _ = _compile(tree.args[0], bins)
        lag_node = tree.args[1]
        assert isinstance(lag_node, Number)
        lag = int(lag_node.text)
        if lag == 0:
            return _compile(tree.args[0], bins)
        return _shift(bins, lag, arg), None
    compiled = [_compile(a, bins) for a in tree.args]
    progs = [p for p, _ in compiled]
    if name == "MIN":
        program = _fold(np.minimum, progs)
    elif name == "MAX":
        program = _fold(np.maximum, progs)
    elif name == "ABS":
        inner = progs[0]

        def absolute(env: Mapping[str, np.ndarray]) -> Value:
            return np.abs(inner(env))

        program = absolute
    else:  # CLAMP(v, lo, hi) = MAX(lo, MIN(hi, v)), so lo wins when lo > hi
        v, lo, hi = progs

        def clamp(env: Mapping[str, np.ndarray]) -> Value:
            return np.maximum(lo(env), np.minimum(hi(env), v(env)))

        program = clamp
    if all(const is not None for _, const in compiled):
        value = float(program({}))
        return _constant(value), value
    return program, None
