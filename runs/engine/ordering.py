"""Evaluation order of a model's nodes (spec 02 §7) and the nodes that lie on cycles."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence


def kahn_order(inputs: Sequence[Sequence[int]]) -> list[int]:
    """Kahn's algorithm exactly as spec 02 §7 states it, over node indices in definition order.

    ``inputs[j]`` holds the distinct indices node ``j`` reads. Nodes on or behind a cycle are
    left out of the result.
    """
    n = len(inputs)
    indegree = [len(ins) for ins in inputs]
    # Filled by scanning dependents in definition order, so each list is already sorted: walking
    # it is "each node, in definition order, that has the popped node as an input".
    dependents: list[list[int]] = [[] for _ in range(n)]
    for j, ins in enumerate(inputs):
        for i in ins:
            dependents[i].append(j)
    queue = deque(j for j in range(n) if indegree[j] == 0)
    order: list[int] = []
    while queue:
        i = queue.popleft()
        order.append(i)
        for j in dependents[i]:
            indegree[j] -= 1
            if indegree[j] == 0:
                queue.append(j)
    return order


def cycle_members(inputs: Sequence[Sequence[int]], candidates: Sequence[int]) -> list[int]:
    """The candidates on a cycle among themselves (an SCC of two or more, or a self-loop), sorted.

    Tarjan's algorithm, iterative so that long chains cannot hit the recursion limit.
    """
    allowed = set(candidates)
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    members: list[int] = []
    counter = 0
    successors = {v: [w for w in inputs[v] if w in allowed] for v in allowed}
    for root in sorted(allowed):
        if root in index:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            v, k = work.pop()
            if k == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            succ = successors[v]
            if k < len(succ):
                work.append((v, k + 1))
                w = succ[k]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                component: list[int] = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1 or v in inputs[v]:
                    members.extend(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return sorted(members)
