import { expect } from 'chai';
import { inlineParameters } from '../../lib/dialects/statements';

describe("inlineParameters (isolation: 'role': bind values as literals, one message)", () => {
  const lit = (v: unknown) => (v === null ? 'NULL' : `'${String(v).replace(/'/g, "''")}'`);

  it('replaces $n by its literal, every occurrence, in order of the parameters', () => {
    expect(inlineParameters('SELECT * FROM w WHERE a = $1 AND b = $2 OR a = $1', ['x', 7], lit)).to.equal("SELECT * FROM w WHERE a = 'x' AND b = '7' OR a = 'x'");
    expect(inlineParameters('SELECT $10, $1, $2, $3, $4, $5, $6, $7, $8, $9', Array.from({ length: 10 }, (_, i) => i + 1), lit)).to.equal(
      "SELECT '10', '1', '2', '3', '4', '5', '6', '7', '8', '9'",
    );
    expect(inlineParameters('SELECT $1::int + 1', [null], lit)).to.equal('SELECT NULL::int + 1');
  });

  it('leaves $n alone in strings, quoted names, dollar quotes, comments and identifiers', () => {
    const sql = [
      "SELECT '$1', E'\\'$1', \"col$1\", a$1, $$ $1 $$, $body$ $1 $body$ -- $1",
      '/* $1 /* nested $1 */ */ $1',
    ].join('\n');
    expect(inlineParameters(sql, ['v'], lit)).to.equal(sql.slice(0, sql.lastIndexOf('$1')) + "'v'");
  });

  it('gives up (undefined: keep bind parameters) on a placeholder without a parameter, a parameter without a placeholder, or a value it cannot render', () => {
    expect(inlineParameters('SELECT $2', ['only one'], lit)).to.equal(undefined);
    expect(inlineParameters('SELECT $0', ['x'], lit)).to.equal(undefined);
    // A parameter no placeholder uses (here one in a comment): the server refuses that with bind parameters, so it keeps them.
    expect(inlineParameters('SELECT $1 -- , $2', ['a', 'b'], lit)).to.equal(undefined);
    expect(inlineParameters('SELECT $1', [Buffer.from('x')], () => undefined)).to.equal(undefined);
  });
});
