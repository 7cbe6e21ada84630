"""Which prompt tokens can be encoded once for several prompts: a radix tree over token ids.

Few-shot prompts share their leading shots, but samplers that draw the shots per item (as
lm-evaluation-harness does) make prompts that share ever shorter prefixes: the first shot with
many prompts, the first two with fewer, and so on. A radix tree of the prompts finds every such
shared run; the engine encodes each tree node once (its KV cache kept while a prompt still needs
it) and each prompt's own tail on top of the cached nodes of its path.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Node:
    """A run of tokens that several prompts share, after the runs of its ancestors."""

    tokens: list[int]
    start: int  # position of its first token (the length of its ancestors' runs)
    parent: int | None
    users: int = 0  # prompts whose path goes through it


class PrefixPlan:
    """A radix tree over ``seqs``: each sequence's path of shared nodes and the tail left to it.

    ``shareable[i]`` caps how many leading tokens of ``seqs[i]`` may come from shared nodes (the
    tail must hold every position whose logits the caller needs). A node is made only for a run
    of at least ``min_shared`` tokens shared by two or more sequences; shorter shared runs are
    left in the tails. ``order`` lists the sequences in token order, so that consecutive ones
    share the most and a node's users come together.
    """

    def __init__(self, seqs: list[list[int]], shareable: list[int], min_shared: int) -> None:
        self.seqs = seqs
        self.keys = [seq[:max(0, min(n, len(seq)))] for seq, n in zip(seqs, shareable, strict=True)]
        self.min_shared = max(1, min_shared)
        self.nodes: list[Node] = []
        self.path: list[list[int]] = [[] for _ in seqs]
        self.split: list[int] = [0] * len(seqs)
        self.order = sorted(range(len(seqs)), key=lambda i: (self.keys[i], seqs[i]))
        stack = [(self.order, 0, None)] if seqs else []
        while stack:
            stack.extend(self._branch(*stack.pop()))

    def tail(self, i: int) -> list[int]:
        """The tokens of sequence ``i`` that its shared nodes do not cover."""
        return self.seqs[i][self.split[i]:]

    def ancestors(self, node: Node) -> list[int]:
        """The nodes above ``node``, root first."""
        chain: list[int] = []
        up = node.parent
        while up is not None:
            chain.append(up)
            up = self.nodes[up].parent
        return chain[::-1]

    def shared_tokens(self) -> int:
        """How many tokens the nodes hold (each encoded once)."""
        return sum(len(node.tokens) for node in self.nodes)

    def _branch(self, group: list[int], start: int, parent: int | None
                ) -> list[tuple[list[int], int, int | None]]:
        """Settle ``group`` (sorted sequences sharing their first ``start`` tokens through
        ``parent``): make a node of what they all share if it is long enough, finish the
        sequences that end there, and return the subgroups to branch on next."""
        keys = [self.keys[i] for i in group]
        common = _common_prefix_len(keys[0], keys[-1])  # sorted: first and last bound the rest
        if len(group) > 1 and common - start >= self.min_shared:
            self.nodes.append(Node(keys[0][start:common], start, parent, users=len(group)))
            parent, start = len(self.nodes) - 1, common
        if len(group) == 1 or all(len(k) == common for k in keys):
            for i in group:
                self._finish(i, start, parent)
            return []
        # Split after the common run: by the next token; sequences that end there go alone.
        subgroups: list[list[int]] = []
        for i, key in zip(group, keys, strict=True):
            token = key[common] if len(key) > common else None
            if token is None or not subgroups or len(self.keys[subgroups[-1][0]]) <= common \
                    or self.keys[subgroups[-1][0]][common] != token:
                subgroups.append([i])
            else:
                subgroups[-1].append(i)
        return [(sub, start, parent) for sub in reversed(subgroups)]

    def _finish(self, i: int, start: int, parent: int | None) -> None:
        self.path[i] = [] if parent is None else [*self.ancestors(self.nodes[parent]), parent]
        self.split[i] = start


def _common_prefix_len(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    for k in range(n):
        if a[k] != b[k]:
            return k
    return n
