/* tz_segment_int.h — what tz_segment.c (scan, index, read, purge) and
 * tz_segwrite.c (staging, append, group commit) share. Not for other
 * modules. */
#ifndef TZ_SEGMENT_INT_H
#define TZ_SEGMENT_INT_H

#include <pthread.h>
#include "tz_segment.h"

#define SEG_HDR 128
#define SEG_TRAILER 32
#define SEG_NAME_MAX 64
#define SEG_KIND_ENTRY 1
#define SEG_KIND_ADD 2
#define SEG_KIND_DELETE 3
#define SEG_FLAG_ENC 1u
#define SEG_FLAG_GMAC 2u       /* the payload checksum is a GMAC (else SHA-256) */
#define SEG_SUM_LEN 32         /* the header's checksum field */

/* The format's little-endian integers. */
static inline uint64_t seg_get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline uint32_t seg_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void seg_put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

/* One blob as the directory of a record describes it. */
struct seg_blob {
	char name[SEG_NAME_MAX + 1];
	uint64_t offset, stored, plain;   /* offset: in the payload */
	unsigned char sha256[32];
};

/* Where a blob of a live entry is. */
struct seg_loc {
	char name[SEG_NAME_MAX + 1];
	unsigned seg;                     /* segment number */
	uint64_t at;                      /* file offset of the blob's bytes */
	uint64_t stored, plain;
	int encrypted;
	unsigned char sha256[32];
};

struct seg_entry_idx {
	char id[TZ_ID_LEN];
	time_t stored;
	unsigned seg;                     /* segment of the entry record */
	GArray *locs;                     /* struct seg_loc, one per name */
};

struct seg_file {
	unsigned no;
	int fd;                           /* read-write (or read-only) */
	uint64_t scanned;                 /* bytes of valid records seen */
	uint64_t live;                    /* bytes of records of live entries */
	time_t newest;                    /* newest record time */
};

struct tz_seg {
	char *dir;
	int dirfd, lockfd;
	int readonly, has_key;
	int append_only;                  /* no index: tz_seg_opts.append_only */
	GHashTable *only;                 /* index only these ids (tz_seg_has_among), or NULL */
	unsigned char key[TZ_KEY_LEN];
	uint64_t max_segment;
	int crash_step, crash_after;      /* TZ_SEG_CRASH_STEP (tests) */
	gint commits;                     /* durable commits so far (atomic) */
	pthread_mutex_t mu;               /* files, index, appends */
	GPtrArray *files;                 /* struct seg_file *, by number */
	struct timespec dir_mtime;        /* the directory when last listed */
	GHashTable *index;                /* id -> struct seg_entry_idx * */
	struct {
		pthread_mutex_t mu;
		pthread_cond_t cv;
		unsigned long enqueued, done;
		int leading, rc;
		unsigned long failed_upto;    /* tickets at or below: the sync failed */
		unsigned synced_no;           /* the newest segment a sync covered, */
		uint64_t synced_size;         /* and its size then (crash tests) */
		int synced_known;
		char err[TZ_ERRLEN];
	} grp;
};

/* tz_segment.c */
struct seg_file *seg_active(struct tz_seg *s);
struct seg_file *seg_file_get(struct tz_seg *s, unsigned no);
/* Parse and check one record at off in f (checksums; payload too when
 * full). 1 = a valid record (*len its size), 2 = its header is intact but
 * its payload is not (*len its size), 0 = end of data or a torn header,
 * -1 = a read failed. */
int seg_record_read(int fd, uint64_t off, uint64_t size, int full, unsigned char hdr[SEG_HDR],
		    GArray *blobs, uint64_t *len);
/* A record's header and directory (n bytes) parsed into blobs; 0 or -1. */
int seg_head_parse(const unsigned char *head, uint32_t n, GArray *blobs);
void seg_index_record(struct tz_seg *s, struct seg_file *f, uint64_t off,
		      const unsigned char *hdr, GArray *blobs, uint64_t len);
/* Open segments other processes made and index records not seen yet;
 * with repair (flock held) a torn tail of the newest is cut off, so an
 * append never lands behind a record a crashed writer left half done. */
int seg_refresh(struct tz_seg *s, int repair);
/* append_only: close every segment but the newest. Appending needs it
 * alone; holding the others would keep the space of segments another
 * process purged, and an fd per segment. s->mu held. */
void seg_keep_newest(struct tz_seg *s);
/* x (a copy) still describes the live entry x->id exactly: compaction
 * appends its copy only then, under the append locks. s->mu held. */
int seg_entry_unchanged(struct tz_seg *s, const struct seg_entry_idx *x);
/* A copy of the index's record of id (idx_free it), NULL when not live.
 * s->mu held. */
struct seg_entry_idx *seg_entry_copy(struct tz_seg *s, const char *id);
void seg_entry_free(struct seg_entry_idx *x);
int seg_new_file(struct tz_seg *s, unsigned no, char *err, size_t errlen);
void seg_crash(struct tz_seg *s, int step);
/* A store opened append_only has no index to answer from: -1 with err
 * (err may be NULL), else 0. */
int seg_append_only_refuses(struct tz_seg *s, char *err, size_t errlen);
/* tz_segwrite.c: a fresh entry record with the current blobs of entry id
 * (compaction); 0 also when the entry is gone meanwhile. */
int seg_rewrite(struct tz_seg *s, const char *id, char *err, size_t errlen);
/* tz_segwrite.c: append one complete record (bytes, len) under the locks
 * and make it durable; also used by compaction. expect: NULL, or the
 * entry as the record's copy saw it: when it changed meanwhile (a put, a
 * delete, another compaction) nothing is written and -2 is returned.
 * w != NULL: only appended, *w says where (tz_seg_entry_write). */
int seg_append(struct tz_seg *s, const void *head, size_t headlen, int payload_fd,
	       const void *payload, uint64_t payload_len, const void *trailer,
	       const struct seg_entry_idx *expect, struct tz_seg_written *w, char *err, size_t errlen);

/* tz_segsum.c: the payload checksum of a record (the header's field at
 * 72): with SEG_FLAG_GMAC (gmac 1; everything written now) the GMAC of
 * AES-256-GCM with an all-zero key and IV, 16 bytes, then 16 zero bytes;
 * without (gmac 0; records written before) SHA-256. new: NULL when the
 * library fails. */
struct seg_sum;
struct seg_sum *seg_sum_new(int gmac);
int seg_sum_update(struct seg_sum *c, const void *p, size_t n);
int seg_sum_final(struct seg_sum *c, unsigned char out[SEG_SUM_LEN]);
void seg_sum_free(struct seg_sum *c);
int seg_sum_buf(int gmac, const void *p, size_t n, unsigned char out[SEG_SUM_LEN]);
int seg_sum_range(int gmac, int fd, uint64_t off, uint64_t len, unsigned char out[SEG_SUM_LEN]);

/* tz_segindex.c: the offset index of a sealed segment (NNNNNNNN.tzx).
 * seg_x_load indexes f's records from it when it is valid for f as the
 * segment is now (1; f->scanned set), else 0 and nothing is indexed.
 * A scan builds x (seg_x_begin, seg_x_add per valid record) and, when it
 * reached the segment's end, seg_x_save writes it; purge drops it. */
int seg_x_load(struct tz_seg *s, struct seg_file *f);
void seg_x_begin(GByteArray *x);
void seg_x_add(GByteArray *x, uint64_t off, uint64_t len, const unsigned char *head, uint32_t n);
void seg_x_save(struct tz_seg *s, struct seg_file *f, GByteArray *x);
void seg_x_drop(struct tz_seg *s, unsigned no);

#endif
