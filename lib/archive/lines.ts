import { StringDecoder } from 'node:string_decoder';

/** The `\n`-separated lines of a byte or text stream (the last one without its `\n`), decoded as UTF-8 across chunk boundaries. */
export async function* lines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    let start = 0;
    let end = text.indexOf('\n');
    while (end !== -1) {
      yield text.slice(start, end);
      start = end + 1;
      end = text.indexOf('\n', start);
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest !== '') yield rest;
}
