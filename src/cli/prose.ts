// Help text written wrapped in the source, unwrapped for oclif, which wraps it to the terminal:
// single line breaks inside a paragraph become spaces (no sentence broken mid-line in `--help`);
// blank lines and indented lines (lists) stay as written.
export function prose(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce((out, s, i) => out + s + (i < values.length ? String(values[i]) : ''), '')
  return text.replace(/([^\n])\n(?!\n| {2})/g, '$1 ')
}
