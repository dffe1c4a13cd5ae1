/**
 * Join fields are checked on both sides, at compile time and when `singleView()` is called. The
 * `@ts-expect-error` lines are the compile-time proof (`npm test` type-checks this file and tsc fails
 * if one of them stops being an error); the assertions are the run-time one, for relations built
 * from strings the types cannot see (imported configurations, widened variables).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basic, field, hasMany, hasOne, isTributaryError, projection, singleView } from '../../src/index.js';

const source = (topic: string) => ({ topic, adapter: basic() });
const books = projection({
  name: 'pr_books',
  source: source('books'),
  primaryKey: ['book_id'],
  fields: { book_id: field.string(), title: field.string(), publisher_id: field.string({ nullable: true }) },
});
const authors = projection({ name: 'pr_authors', source: source('authors'), primaryKey: ['author_id'], fields: { author_id: field.string(), name: field.string() } });
const bookAuthors = projection({
  name: 'pr_book_authors',
  source: source('book_authors'),
  primaryKey: ['book_id', 'author_id'],
  fields: { book_id: field.string(), author_id: field.string(), position: field.integer() },
});
const publishers = projection({ name: 'pr_publishers', source: source('publishers'), primaryKey: ['publisher_id'], fields: { publisher_id: field.string(), name: field.string() } });

/** Asserts that declaring throws TRB_TOPOLOGY naming the field and the projection it is missing from. */
function refused(declare: () => unknown, field: string, projectionName: string): void {
  assert.throws(declare, (e: unknown) => isTributaryError(e) && e.code === 'TRB_TOPOLOGY' && e.message.includes(`'${field}' is not a field of ${projectionName}`));
}

describe('join fields', () => {
  it('accept a many-to-many through a join table, typed down to the nested documents', () => {
    const view = singleView({
      name: 'sv_books',
      base: books,
      include: {
        authors: hasMany(bookAuthors, { book_id: 'book_id' }, { include: { author: hasOne(authors, { author_id: 'author_id' }) } }),
        publisher: hasOne(publishers, { publisher_id: 'publisher_id' }),
      },
      map: ({ base, authors, publisher }) => ({
        book_id: base.book_id,
        authors: authors.map((link) => ({ position: link.position, name: link.author?.name ?? null })),
        publisher: publisher?.name ?? null,
      }),
    });
    assert.deepEqual(view.tree.children.map((n) => n.children.map((c) => c.relation?.on)), [[{ author_id: 'author_id' }], []]);
  });

  it('refuse a parent-side field that is not a field of the parent (top level)', () => {
    refused(
      () =>
        singleView({
          name: 'sv_books',
          base: books,
          include: {
            // @ts-expect-error — `autor_id` is not a field of pr_books (the parent)
            author: hasOne(authors, { author_id: 'autor_id' }),
          },
          map: ({ base }) => ({ book_id: base.book_id }),
        }),
      'autor_id',
      'pr_books',
    );
  });

  it('refuse a parent-side field that is not a field of the including relation (nested)', () => {
    refused(
      () =>
        singleView({
          name: 'sv_books',
          base: books,
          include: {
            // @ts-expect-error — `title` is a field of pr_books, but the parent of `author` is pr_book_authors
            authors: hasMany(bookAuthors, { book_id: 'book_id' }, { include: { author: hasOne(authors, { author_id: 'title' }) } }),
          },
          map: ({ base }) => ({ book_id: base.book_id }),
        }),
      'title',
      'pr_book_authors',
    );
  });

  it('refuse a target-side field that is not a field of the target', () => {
    refused(
      () =>
        singleView({
          name: 'sv_books',
          base: books,
          // @ts-expect-error — `autor_id` is not a field of pr_authors (the target)
          include: { author: hasOne(authors, { autor_id: 'publisher_id' }) },
          map: ({ base }) => ({ book_id: base.book_id }),
        }),
      'autor_id',
      'pr_authors',
    );
  });

  it('check a relation declared apart from its view where the view uses it', () => {
    const byPublisher = hasOne(publishers, { publisher_id: 'publisher_id' });
    const misspelt = hasOne(publishers, { publisher_id: 'publisherId' });
    singleView({ name: 'sv_ok', base: books, include: { publisher: byPublisher }, map: ({ base, publisher }) => ({ title: base.title, publisher: publisher?.name }) });
    refused(
      () =>
        singleView({
          name: 'sv_books',
          base: books,
          // @ts-expect-error — `publisherId` is not a field of pr_books
          include: { publisher: misspelt },
          map: ({ base }) => ({ title: base.title }),
        }),
      'publisherId',
      'pr_books',
    );
  });

  it('refuse a field name only known as a string at compile time, then check it at run time', () => {
    const widened: string = 'book_id';
    // @ts-expect-error — a `string` cannot be proven to be a field of pr_books: write the literal
    singleView({ name: 'sv_books', base: books, include: { authors: hasMany(bookAuthors, { book_id: widened }) }, map: ({ base }) => ({ title: base.title }) });
    const misspelt: string = 'bookid';
    refused(
      // @ts-expect-error — as above; the run-time check catches the misspelling
      () => singleView({ name: 'sv_books', base: books, include: { authors: hasMany(bookAuthors, { book_id: misspelt }) }, map: ({ base }) => ({ title: base.title }) }),
      'bookid',
      'pr_books',
    );
  });
});
