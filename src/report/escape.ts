// Escapers for the hand-written XML and HTML reports. Every piece of text from a document (names,
// curl errors, policy YAML) goes through one of these: a cell name is user input.

// XML 1.0 forbids these control characters even as character references; a curl error or a
// pod log can carry them, and one of them makes the whole JUnit file unparseable.
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text or a double-quoted attribute value for XML: entities for markup characters, invalid characters
 * replaced by U+FFFD. The apostrophe stays as is, so the shell commands in a report read as typed.
 */
export function escapeXml(s: string): string {
  return s.replace(XML_INVALID, '\uFFFD').replace(/[&<>"]/g, (c) => ENTITIES[c]!);
}

/** An attribute value that keeps its line breaks (a parser normalises a literal newline in an attribute to a space). */
export function escapeXmlAttribute(s: string): string {
  return escapeXml(s).replace(/\r?\n/g, '&#10;').replace(/\t/g, '&#9;');
}

/** Text or attribute value for HTML, quoted either way. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
