"""nanoGPT's model layout in PyTorch, as Lockstep's GPT builds it: token and position
embeddings, pre-LayerNorm blocks of causal multi-head self-attention (a fused QKV projection,
scaled dot product, causal mask, softmax, output projection) and a 4x tanh-GELU MLP with
residual adds, a final LayerNorm, and an output head tied to the token embedding. Linear and
LayerNorm layers have biases; parameter names are nanoGPT's (transformer.wte.weight,
transformer.h.0.attn.c_attn.weight, ...), weights [out, in].

The reference of scripts/fixtures/make_gpt_fixtures.py and scripts/gpt_check.py.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F


class Attention(nn.Module):
    def __init__(self, embed, heads):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(embed, 3 * embed)
        self.c_proj = nn.Linear(embed, embed)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.shape[-1]))
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        return self.c_proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, embed):
        super().__init__()
        self.c_fc = nn.Linear(embed, 4 * embed)
        self.c_proj = nn.Linear(4 * embed, embed)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, embed, heads):
        super().__init__()
        self.ln_1, self.attn = nn.LayerNorm(embed), Attention(embed, heads)
        self.ln_2, self.mlp = nn.LayerNorm(embed), MLP(embed)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab, context, layers, heads, embed):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, embed), wpe=nn.Embedding(context, embed),
            h=nn.ModuleList(Block(embed, heads) for _ in range(layers)), ln_f=nn.LayerNorm(embed)))
        self.lm_head = nn.Linear(embed, vocab, bias=False)
        self.lm_head.weight = self.transformer.wte.weight

    def forward(self, idx):
        t = self.transformer
        x = t.wte(idx) + t.wpe(torch.arange(idx.shape[1]))
        for block in t.h:
            x = block(x)
        return self.lm_head(t.ln_f(x))
