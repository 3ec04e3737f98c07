"""Writes the data files of the A4 bundle: run it from this folder to rebuild them.

    ../../../.venv/bin/python make_data.py

Zachary's karate club (networkx.karate_club_graph(), label = the node's 'club') with its nodes
renumbered by a fixed permutation, so that a hand-in cannot simply look the labels up by node id.
A few labelled nodes per club are public; the other nodes' labels go to private/ only.

Then bundle/public/ (with the hand-written a4_cases.py) is copied to starter/public/, which
students get.
"""

import json
import shutil
from pathlib import Path

import networkx as nx
import numpy as np

HERE = Path(__file__).resolve().parent
PUBLIC = HERE / "bundle" / "public"
PRIVATE = HERE / "bundle" / "private"
COPIES = (HERE / "starter" / "public",)
SEED = 541
TRAIN_PER_CLUB = 3
CLUBS = ("Mr. Hi", "Officer")


def main() -> None:
    rng = np.random.default_rng(SEED)
    graph = nx.karate_club_graph()
    n = graph.number_of_nodes()
    permutation = rng.permutation(n)  # old node id -> new node id
    adjacency = np.zeros((n, n), dtype=np.float32)
    for u, v in graph.edges():
        adjacency[permutation[u], permutation[v]] = adjacency[permutation[v], permutation[u]] = 1
    labels = np.empty(n, dtype=np.int64)
    for node, club in graph.nodes(data="club"):
        labels[permutation[node]] = CLUBS.index(club)
    # Each club's leader (old ids 0 and 33) is labelled, and a few members picked at random.
    train = []
    for club, leader in enumerate((0, 33)):
        members = [permutation[m] for m in graph if CLUBS.index(graph.nodes[m]["club"]) == club]
        others = [m for m in members if m != permutation[leader]]
        chosen = rng.choice(others, TRAIN_PER_CLUB - 1, replace=False)
        train += [permutation[leader], *chosen]
    train_nodes = np.array(sorted(train), dtype=np.int64)
    test_nodes = np.array(sorted(set(range(n)) - set(train)), dtype=np.int64)

    PUBLIC.mkdir(parents=True, exist_ok=True)
    PRIVATE.mkdir(parents=True, exist_ok=True)
    np.save(PUBLIC / "karate_adjacency.npy", adjacency)
    np.save(PUBLIC / "karate_train_nodes.npy", train_nodes)
    np.save(PUBLIC / "karate_train_labels.npy", labels[train_nodes])
    np.save(PUBLIC / "karate_test_nodes.npy", test_nodes)
    np.save(PRIVATE / "karate_test_labels.npy", labels[test_nodes])
    # The held-out sorting sequences are drawn from this seed by the grader, never in the sandbox.
    secret = {"sort_seed": int(rng.integers(2**31)), "sort_sequences": 2000}
    (PRIVATE / "heldout.json").write_text(json.dumps(secret, indent=1) + "\n")
    for copy in COPIES:
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(PUBLIC, copy, ignore=shutil.ignore_patterns("__pycache__"))


if __name__ == "__main__":
    main()
