"""A4's flawed hand-ins as data: the reference solution with one realistic mistake each, and the
tests each must lose (and no other). To look at them or grade them, write them into a folder:

    .venv/bin/python examples/assignments/a4-transformer-gnn/make_flawed.py /tmp/a4 [NAME ...]

The outcomes of the trainings were measured over several seeds (the staff README gives the
figures), so that a mistake's losses do not depend on the machine.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mistakes import Edit, Mistake, main

ATTENTION_SOFTMAX = "    weights = torch.softmax(scores, dim=-1)\n"
MASK_SCORES = """    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
"""
CAUSAL = "    return torch.ones(length, length, dtype=torch.bool, device=device).tril()\n"
NORMALIZATION = """    a_hat = adj + torch.eye(adj.shape[0], dtype=adj.dtype, device=adj.device)
    d_inv_sqrt = a_hat.sum(dim=1).rsqrt()
    return d_inv_sqrt[:, None] * a_hat * d_inv_sqrt[None, :]
"""
DROPOUT = "        h = functional.dropout(h, self.dropout, training=self.training)\n"

MISTAKES = [
    Mistake(
        name="attention-scale-by-d",
        edits=(
            Edit("transformer.py", "import math\n", ""),
            Edit(
                "transformer.py",
                "    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])\n",
                "    scores = q @ k.transpose(-2, -1) / q.shape[-1]\n",
            ),
        ),
        loses=(
            "attention_unmasked",
            "attention_masks",
            "multihead_attention",
            "transformer_forward",
            "sorter_training",
        ),
        description=(
            "scaled_dot_product_attention divides the scores by d instead of sqrt(d). Every "
            "attention output differs from PyTorch's, and the sorter, trained with the too-flat "
            "attention, does not sort when the grader runs its weights in the specified "
            "architecture (held-out token accuracy about 0.65-0.75). The GCN part is untouched."
        ),
    ),
    Mistake(
        name="causal-mask-off-by-one",
        edits=(Edit("transformer.py", CAUSAL, CAUSAL.replace(".tril()", ".tril(diagonal=1)")),),
        loses=("attention_masks", "transformer_forward", "sorter_training"),
        description=(
            "causal_mask uses tril(diagonal=1), so position i also sees position i+1. The "
            "attention functions are right (multihead_attention gets its masks from the grader), "
            "but the Transformer's logits differ, and in training the model learns to copy the "
            "next token, which it can see: its training loss falls to almost 0 while the "
            "grader's properly causal copy of the architecture sorts only about 60% of held-out "
            "digits."
        ),
    ),
    Mistake(
        name="mask-after-softmax",
        edits=(
            Edit("transformer.py", MASK_SCORES, ""),
            Edit(
                "transformer.py",
                ATTENTION_SOFTMAX,
                ATTENTION_SOFTMAX
                + "    if mask is not None:\n        weights = weights.masked_fill(~mask, 0.0)\n",
            ),
        ),
        loses=("attention_masks", "multihead_attention", "transformer_forward", "sorter_training"),
        description=(
            "scaled_dot_product_attention zeroes the masked weights after the softmax instead of "
            "masking the scores before it: the weights no longer sum to 1 and masked keys still "
            "take part in the normalization. Unmasked attention is right; everything with a mask "
            "is not, and the trained sorter fails the held-out accuracy (about 0.8)."
        ),
    ),
    Mistake(
        name="gcn-no-self-loops",
        edits=(
            Edit(
                "gnn.py",
                NORMALIZATION,
                """    d_inv_sqrt = adj.sum(dim=1).rsqrt()
    d_inv_sqrt[torch.isinf(d_inv_sqrt)] = 0.0  # a node without edges
    return d_inv_sqrt[:, None] * adj * d_inv_sqrt[None, :]
""",
            ),
        ),
        loses=("gcn_normalization",),
        description=(
            "normalized_adjacency computes D^-1/2 A D^-1/2 without adding the self-loops (A + I). "
            "The layer and the model are right, and on the karate club the trained weights still "
            "classify the test nodes well in the grader's correct GCN, so only the unit test of "
            "the normalization fails."
        ),
    ),
    Mistake(
        name="gcn-no-normalization",
        edits=(
            Edit(
                "gnn.py",
                NORMALIZATION,
                "    return adj + torch.eye(adj.shape[0], dtype=adj.dtype, device=adj.device)\n",
            ),
        ),
        loses=("gcn_normalization", "karate_training"),
        description=(
            "normalized_adjacency returns A + I without the symmetric normalization "
            "D^-1/2 . D^-1/2. The trained weights are scaled for summed, not averaged, "
            "neighbourhoods: in the grader's correct GCN they no longer fit the labelled nodes "
            "(loss about 0.49) and get about 71% of the test nodes."
        ),
    ),
    Mistake(
        name="naive-softmax",
        edits=(
            Edit(
                "transformer.py",
                ATTENTION_SOFTMAX,
                "    weights = scores.exp() / scores.exp().sum(dim=-1, keepdim=True)\n",
            ),
        ),
        loses=("attention_unmasked", "attention_masks"),
        description=(
            "scaled_dot_product_attention writes the softmax out as exp(s) / sum(exp(s)) without "
            "subtracting each row's maximum first. It is right for the usual scores, and the "
            "sorter trains, but scores in the hundreds overflow float32 to inf and the weights "
            "become NaN: both attention tests have such a case."
        ),
    ),
    Mistake(
        name="padding-mask-ignores-max-len",
        edits=(
            Edit(
                "transformer.py",
                "    return torch.arange(max_len, device=lengths.device) < lengths[:, None]\n",
                "    return torch.arange(int(lengths.max()), device=lengths.device)"
                " < lengths[:, None]\n",
            ),
        ),
        loses=("attention_masks",),
        description=(
            "padding_mask makes its rows as long as the longest length instead of max_len: right "
            "when some sequence fills max_len, one column short otherwise. Nothing else calls "
            "it, so only attention_masks fails."
        ),
    ),
    Mistake(
        name="attn-mask-only-with-padding",
        edits=(
            Edit(
                "transformer.py",
                """            mask = key_padding_mask[:, None, None, :]
        if attn_mask is not None:
            mask = attn_mask if mask is None else mask & attn_mask
""",
                """            mask = key_padding_mask[:, None, None, :]
            if attn_mask is not None:
                mask = mask & attn_mask
""",
            ),
        ),
        loses=("multihead_attention", "transformer_forward", "sorter_training"),
        description=(
            "MultiHeadAttention applies attn_mask only when a key padding mask comes with it, "
            "so with attn_mask alone it attends everywhere. TinyTransformer without padding is "
            "then not causal: its logits are wrong, and in training (never padded) the model "
            "reads the next token and learns to copy it, which the grader's causal copy cannot "
            "do (held-out accuracy about 0.6)."
        ),
    ),
    Mistake(
        name="causal-mask-ignores-device",
        edits=(Edit("transformer.py", CAUSAL, CAUSAL.replace(", device=device", "")),),
        loses=("attention_masks",),
        description=(
            "causal_mask ignores its device argument and makes the mask on the CPU. On a CPU "
            "worker everything runs; on a GPU the Transformer would fail with a mask on the "
            "wrong device. attention_masks asks for a mask on the meta device and sees a CPU one."
        ),
    ),
    Mistake(
        name="uses-torch-attention",
        edits=(
            Edit(
                "transformer.py",
                "    return weights @ v, weights\n",
                "    output = functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)\n"
                "    return output, weights\n",
            ),
        ),
        loses=("own_attention",),
        description=(
            "scaled_dot_product_attention computes the weights itself but takes the output from "
            "torch.nn.functional.scaled_dot_product_attention, which the rules forbid. Every "
            "answer is right, so only the hidden own_attention test fails."
        ),
    ),
    Mistake(
        name="gcn-no-dropout",
        edits=(Edit("gnn.py", DROPOUT, ""),),
        loses=("gcn_dropout",),
        description=(
            "GCN.forward leaves dropout out. Its eval-mode logits are right and the karate club "
            "is learnt without it, so only gcn_dropout, which watches conv2's input in training "
            "mode, fails: nothing is dropped."
        ),
    ),
    Mistake(
        name="gcn-dropout-always",
        edits=(Edit("gnn.py", DROPOUT, "        h = functional.dropout(h, self.dropout)\n"),),
        loses=("gcn_layer",),
        description=(
            "GCN.forward calls functional.dropout without training=self.training, whose default "
            "is True: dropout also runs in eval mode, so GCN's eval-mode logits in gcn_layer are "
            "wrong. Training is as the solution's, so gcn_dropout and karate_training pass."
        ),
    ),
    Mistake(
        name="gcn-unseeded",
        edits=(
            Edit(
                "gnn.py",
                "    torch.manual_seed(seed)\n    adj_norm",
                "    adj_norm",
            ),
        ),
        loses=("seeded_training",),
        description=(
            "train_gcn never calls torch.manual_seed(seed): two calls with the same seed start "
            "from different weights and dropout masks. Each training still fits the karate "
            "club, so only seeded_training fails."
        ),
    ),
]

if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parent, sys.argv[1:]))
