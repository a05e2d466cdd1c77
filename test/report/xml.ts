// A strict little XML parser for reading junit.xml back: elements, attributes, text, the five
// predefined entities and character references. It rejects what a real parser rejects and the
// JUnit files could plausibly get wrong: unescaped `<` or `&`, mismatched tags, bad characters.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_][\w.-]*/;
// Everything outside the characters XML 1.0 allows.
const INVALID_CHAR = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function decode(s: string, where: number): string {
  if (/<|&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(s))
    throw new Error(`unescaped markup character near offset ${where}: ${JSON.stringify(s.slice(0, 80))}`);
  return s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e]!;
  });
}

/** Attribute values are normalised as XML parsers do: a literal tab or newline becomes a space. */
const normalise = (raw: string, where: number): string => decode(raw.replace(/[\t\n\r]/g, ' '), where);

export function parseXml(xml: string): XmlElement {
  if (INVALID_CHAR.test(xml)) throw new Error(`character not allowed in XML at offset ${xml.search(INVALID_CHAR)}`);
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>\s*/.exec(xml);
  if (!decl) throw new Error('missing <?xml version="1.0" encoding="UTF-8"?> declaration');
  let at = decl[0].length;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (at < xml.length) {
    if (xml.startsWith('</', at)) {
      const end = xml.indexOf('>', at);
      const name = xml.slice(at + 2, end).trim();
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`</${name}> closes <${open?.name}> at offset ${at}`);
      at = end + 1;
      if (stack.length === 0) root = open;
    } else if (xml[at] === '<') {
      const name = NAME.exec(xml.slice(at + 1))?.[0];
      if (!name) throw new Error(`bad tag at offset ${at}`);
      at += 1 + name.length;
      const el: XmlElement = { name, attributes: {}, children: [], text: '' };
      for (;;) {
        const attr = /^\s+([A-Za-z_][\w.-]*)="([^"]*)"/.exec(xml.slice(at));
        if (!attr) break;
        if (attr[1]! in el.attributes) throw new Error(`duplicate attribute ${attr[1]} on <${name}>`);
        el.attributes[attr[1]!] = normalise(attr[2]!, at);
        at += attr[0].length;
      }
      const close = /^\s*(\/?)>/.exec(xml.slice(at));
      if (!close) throw new Error(`unterminated <${name}> at offset ${at}: ${JSON.stringify(xml.slice(at, at + 40))}`);
      at += close[0].length;
      if (root) throw new Error('content after the root element');
      stack.at(-1)?.children.push(el);
      if (close[1]) {
        if (stack.length === 0) root = el;
      } else stack.push(el);
    } else {
      const next = xml.indexOf('<', at);
      const raw = xml.slice(at, next === -1 ? xml.length : next);
      const parent = stack.at(-1);
      if (!parent) {
        if (raw.trim()) throw new Error(`text outside the root element at offset ${at}`);
      } else parent.text += decode(raw, at);
      at = next === -1 ? xml.length : next;
    }
  }
  if (stack.length) throw new Error(`<${stack.at(-1)!.name}> is not closed`);
  if (!root) throw new Error('no root element');
  return root;
}
