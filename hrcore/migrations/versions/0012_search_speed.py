"""policy chunks keep their embedding (and, up to 4 kB, everything else) in the row

pgvector gives `vector` EXTERNAL storage, so once a row passes ~2 kB, which every real
passage does with its text and `tsv`, PostgreSQL moves the 1.5 kB embedding out to the
TOAST table. The exact search of an employer then fetches every embedding from there:
2.1-2.8 µs of CPU per chunk against 0.9-1.1 µs with it in the row (100k-chunk benchmark).

MAIN alone is not enough: the text and `tsv` would go out instead, and ranking 2,000
full-text matches (a question of common words only) fetched each `tsv` twice, 34-46 ms
instead of 10-11 ms for a 3,600-chunk employer. With `toast_tuple_target` at 4,080
bytes (half a page) rows stay whole up to that size, after compressing text and `tsv`;
that ranking then took 13 ms.

The same statement rewrites the table (the USING cast makes new values, equal to the old
ones), so existing chunks move too and the indexes are rebuilt, under an exclusive
lock: 22 s for 30,000 chunks and about three minutes for 100,000 on the loaded 2-core
benchmark machine.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One statement: the rewrite runs after all three changes, so it already stores by
    # them (a change of type alone would also reset the storage to the type's EXTERNAL).
    op.execute(
        "ALTER TABLE policy_chunks"
        " ALTER COLUMN embedding TYPE vector(384) USING embedding::real[]::vector(384),"
        " ALTER COLUMN embedding SET STORAGE MAIN,"
        " SET (toast_tuple_target = 4080)"
    )


def downgrade() -> None:
    # Rows written meanwhile keep their embeddings inline; that is only slower to read.
    op.execute(
        "ALTER TABLE policy_chunks"
        " ALTER COLUMN embedding SET STORAGE EXTERNAL, RESET (toast_tuple_target)"
    )
