/* store-formats.c — what a quarantine entry costs on disk, for three layouts
 * (issue 16). Standalone: OpenSSL and pthreads only, so it measures the
 * file-system pattern, not textize's code around it.
 *
 *   dir        today's layout, modelled on src/store/tz_store.c: mkdir tmp/<id>,
 *              the 参照番号 reservation file (O_EXCL), original.eml, one
 *              file per part and meta.json each written and fsynced, the
 *              entry directory fsynced, renamed into entries/<day>/, then
 *              one fsync of entries/<day> per group of concurrent commits
 *   container  one sealed file per entry: written to a temp name, fsynced,
 *              renamed into entries/<day>/; one directory fsync per group
 *   segment    one append-only, checksummed segment file per time window:
 *              each entry is one record appended under a lock, then one
 *              fdatasync per group of concurrent commits; an offset index
 *              (id -> offset) is appended without fsync (rebuilt by scanning)
 *
 * Every layout pays the same encryption (AES-256-GCM in 64 KB chunks plus a
 * SHA-256 of the plaintext, as tz_crypt does) and, when -a, the same grouped
 * audit append (write + fdatasync per group). A commit is "acknowledged"
 * only once durable; its latency runs from the first byte to that point.
 *
 * usage: store-formats [-n ENTRIES] [-t THREADS] [-s small|alt|attach]
 *                      [-f dir|container|segment] [-a] DIR
 * prints: format shape threads n entries_s fsyncs_per_entry inodes_per_entry
 *         p50_us p99_us batch_avg */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define CHUNK 65536
#define TAG 16

enum fmt { F_DIR, F_CONTAINER, F_SEGMENT };

static struct {
	enum fmt fmt;
	int threads, n, audit;
	size_t mail, part[3];
	int nparts;
	const char *dir;
	int rootfd, tmpfd, dayfd, reffd, auditfd, segfd, idxfd;
	unsigned char key[32];
} cfg;

static long n_fsync, n_inode, n_batches;
static unsigned char *mail_buf;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void count(long *c, long n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static void xfsync(int fd)
{
	if (fsync(fd) < 0)
		die("fsync");
	count(&n_fsync, 1);
}

static void xfdatasync(int fd)
{
	if (fdatasync(fd) < 0)
		die("fdatasync");
	count(&n_fsync, 1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* A growing buffer: the sealed bytes of one blob or one record. */
struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			die("realloc");
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* tz_crypt's work for one blob: SHA-256 of the plaintext, a 20-byte header,
 * then 64 KB chunks each sealed with AES-256-GCM (nonce ^ counter, AAD =
 * header | id | name | counter | final). Appends to out. */
static void seal(struct buf *out, const char *id, const char *name,
		 const unsigned char *p, size_t len)
{
	unsigned char hdr[20] = "TZQE\x01\x10", nonce[12], md[32], ct[CHUNK + TAG];
	unsigned char aad[20 + 64 + 16 + 9];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	size_t off = 0;
	unsigned mdlen;
	int l;

	EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL);
	RAND_bytes(hdr + 8, 12);
	buf_add(out, hdr, sizeof(hdr));
	EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, cfg.key, NULL);
	for (uint64_t i = 0;; i++) {
		size_t take = len - off < CHUNK ? len - off : CHUNK;
		int final = take < CHUNK;
		size_t al = 0;
		memcpy(nonce, hdr + 8, 12);
		for (int k = 0; k < 8; k++)
			nonce[4 + k] ^= (unsigned char)(i >> (56 - 8 * k));
		memcpy(aad, hdr, 20);
		al = 20 + (size_t)snprintf((char *)aad + 20, 80, "%s%c%s%c", id, 0, name, 0);
		memcpy(aad + al, &i, 8);
		aad[al + 8] = (unsigned char)final;
		EVP_EncryptInit_ex(c, NULL, NULL, NULL, nonce);
		EVP_EncryptUpdate(c, NULL, &l, aad, (int)al + 9);
		EVP_EncryptUpdate(c, ct, &l, p + off, (int)take);
		EVP_EncryptFinal_ex(c, ct + l, &l);
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG, ct + take);
		buf_add(out, ct, take + TAG);
		off += take;
		if (final)
			break;
	}
	EVP_CIPHER_CTX_free(c);
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *q = p;

	while (n > 0) {
		ssize_t w = write(fd, q, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("write");
		q += w;
		n -= (size_t)w;
	}
}

/* One sealed file: create, write, fsync, close (tz_cfile_create/finish). */
static void put_file(int dirfd, const char *fname, const char *id, const char *name,
		     const unsigned char *p, size_t len)
{
	struct buf b = { 0 };
	int fd = openat(dirfd, fname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		die(fname);
	count(&n_inode, 1);
	seal(&b, id, name, p, len);
	write_all(fd, b.p, b.len);
	xfsync(fd);
	close(fd);
	free(b.p);
}

/* The meta.json of an entry: ~1.5 KB of JSON. */
static size_t meta_doc(char *out, size_t cap, const char *id)
{
	size_t n = (size_t)snprintf(out, cap, "{\"id\":\"%s\",\"envelope\":{\"from\":\"yamada@example.com\","
				    "\"rcpt\":[\"user@city.example.lg.jp\"]},\"parts\":[", id);
	while (n < 1400 && n < cap)
		n += (size_t)snprintf(out + n, cap - n, "{\"index\":1,\"state\":\"pending\",\"sha256\":"
				      "\"0000000000000000000000000000000000000000000000000000000000000000\"},");
	return n;
}

/* ---- group commit: the same leader/follower scheme as tz_store.c ---- */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static unsigned long g_enqueued, g_done;   /* tickets */
static int g_leading;

static void batch_work(void)
{
	if (cfg.fmt == F_SEGMENT)
		xfdatasync(cfg.segfd);
	else
		xfsync(cfg.dayfd);
	if (cfg.audit) {
		char line[200];
		int n = snprintf(line, sizeof(line), "{\"event\":\"stored\",\"mac\":\"%064d\"}\n", 0);
		write_all(cfg.auditfd, line, (size_t)n);
		xfdatasync(cfg.auditfd);
	}
	count(&n_batches, 1);
}

static void group_commit(void)
{
	unsigned long mine;

	pthread_mutex_lock(&g_mu);
	mine = ++g_enqueued;
	while (g_done < mine) {
		if (g_leading) {
			pthread_cond_wait(&g_cv, &g_mu);
		} else {
			unsigned long upto = g_enqueued;
			g_leading = 1;
			pthread_mutex_unlock(&g_mu);
			batch_work();
			pthread_mutex_lock(&g_mu);
			g_done = upto;
			g_leading = 0;
			pthread_cond_broadcast(&g_cv);
		}
	}
	pthread_mutex_unlock(&g_mu);
}

/* ---- the three layouts ---- */

static void commit_dir(const char *id, const char *meta, size_t metalen)
{
	char name[64], to[64];
	int fd;

	if (mkdirat(cfg.tmpfd, id, 0700) < 0)
		die("mkdir");
	count(&n_inode, 1);
	fd = openat(cfg.tmpfd, id, O_RDONLY | O_DIRECTORY);
	snprintf(name, sizeof(name), "%.20s", id + 16);   /* the ref reservation */
	close(openat(cfg.reffd, name, O_WRONLY | O_CREAT | O_EXCL, 0600));
	count(&n_inode, 1);
	put_file(fd, "original.eml", id, "original.eml", mail_buf, cfg.mail);
	for (int i = 0; i < cfg.nparts; i++) {
		snprintf(name, sizeof(name), "part-%03d.bin", i + 1);
		put_file(fd, name, id, name, mail_buf, cfg.part[i]);
	}
	put_file(fd, "meta.json", id, "meta.json", (const unsigned char *)meta, metalen);
	xfsync(fd);
	close(fd);
	snprintf(to, sizeof(to), "day/%s", id);
	if (renameat(cfg.tmpfd, id, cfg.rootfd, to) < 0)
		die("rename");
	group_commit();
}

static void seal_entry(struct buf *b, const char *id, const char *meta, size_t metalen)
{
	char name[32];

	seal(b, id, "original.eml", mail_buf, cfg.mail);
	for (int i = 0; i < cfg.nparts; i++) {
		snprintf(name, sizeof(name), "part-%03d.bin", i + 1);
		seal(b, id, name, mail_buf, cfg.part[i]);
	}
	seal(b, id, "meta.json", (const unsigned char *)meta, metalen);
}

static void commit_container(const char *id, const char *meta, size_t metalen)
{
	char tmp[80], name[64];
	struct buf b = { 0 };
	int fd;

	snprintf(name, sizeof(name), "%.20s", id + 16);
	close(openat(cfg.reffd, name, O_WRONLY | O_CREAT | O_EXCL, 0600));
	count(&n_inode, 1);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", id);
	fd = openat(cfg.dayfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		die("container");
	count(&n_inode, 1);
	seal_entry(&b, id, meta, metalen);
	write_all(fd, b.p, b.len);
	xfsync(fd);
	close(fd);
	snprintf(name, sizeof(name), "%s.tze", id);
	if (renameat(cfg.dayfd, tmp, cfg.dayfd, name) < 0)
		die("rename");
	free(b.p);
	group_commit();
}

static pthread_mutex_t seg_mu = PTHREAD_MUTEX_INITIALIZER;
static off_t seg_end;

static void commit_segment(const char *id, const char *meta, size_t metalen)
{
	unsigned char hdr[64] = "TZS1", md[32];
	struct buf b = { 0 };
	char name[64], idx[96];
	unsigned mdlen;
	off_t at;
	int n;

	/* The 参照番号 moves into the record and the index: no file. */
	snprintf(name, sizeof(name), "%.20s", id + 16);
	buf_add(&b, hdr, sizeof(hdr));
	seal_entry(&b, id, meta, metalen);
	EVP_Digest(b.p, b.len, md, &mdlen, EVP_sha256(), NULL);   /* record checksum */
	buf_add(&b, md, sizeof(md));
	pthread_mutex_lock(&seg_mu);
	at = seg_end;
	seg_end += (off_t)b.len;
	if (pwrite(cfg.segfd, b.p, b.len, at) != (ssize_t)b.len)
		die("pwrite");
	n = snprintf(idx, sizeof(idx), "%s %s %lld %zu\n", id, name, (long long)at, b.len);
	write_all(cfg.idxfd, idx, (size_t)n);
	pthread_mutex_unlock(&seg_mu);
	free(b.p);
	group_commit();
}

/* ---- driver ---- */

static double *lat;
static int next_entry;

static void *worker(void *arg)
{
	char id[48], meta[4096];
	(void)arg;

	for (;;) {
		int k = __atomic_fetch_add(&next_entry, 1, __ATOMIC_RELAXED);
		double t0;
		size_t ml;
		if (k >= cfg.n)
			break;
		snprintf(id, sizeof(id), "20261202-000000-%06d-%08x", k, (unsigned)k * 2654435761u);
		t0 = now_us();
		ml = meta_doc(meta, sizeof(meta), id);
		if (cfg.fmt == F_DIR)
			commit_dir(id, meta, ml);
		else if (cfg.fmt == F_CONTAINER)
			commit_container(id, meta, ml);
		else
			commit_segment(id, meta, ml);
		lat[k] = now_us() - t0;
	}
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int open_dir(int at, const char *name)
{
	if (mkdirat(at, name, 0700) < 0 && errno != EEXIST)
		die(name);
	return openat(at, name, O_RDONLY | O_DIRECTORY);
}

/* Bench shapes (bench/gen-messages): message size, and the decoded stripped
 * parts textize stores for it. */
static void set_shape(const char *s)
{
	if (strcmp(s, "small") == 0) {
		cfg.mail = 5 * 1024;
		cfg.nparts = 0;
	} else if (strcmp(s, "alt") == 0) {
		cfg.mail = 24 * 1024;
		cfg.nparts = 1;
		cfg.part[0] = 11 * 1024;
	} else if (strcmp(s, "attach") == 0) {
		cfg.mail = 376 * 1024;
		cfg.nparts = 3;
		cfg.part[0] = 160 * 1024;
		cfg.part[1] = 110 * 1024;
		cfg.part[2] = 4 * 1024;
	} else {
		fprintf(stderr, "unknown shape %s\n", s);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	const char *shape = "small", *fmts[] = { "dir", "container", "segment" };
	pthread_t *th;
	double t0, secs;
	int o;

	cfg.n = 2000;
	cfg.threads = 1;
	set_shape(shape);
	while ((o = getopt(argc, argv, "n:t:s:f:a")) != -1) {
		switch (o) {
		case 'n': cfg.n = atoi(optarg); break;
		case 't': cfg.threads = atoi(optarg); break;
		case 's': shape = optarg; set_shape(optarg); break;
		case 'a': cfg.audit = 1; break;
		case 'f':
			cfg.fmt = strcmp(optarg, "dir") == 0 ? F_DIR :
				  strcmp(optarg, "container") == 0 ? F_CONTAINER : F_SEGMENT;
			break;
		default:
			fprintf(stderr, "usage: store-formats [-n N] [-t T] [-s SHAPE] [-f FMT] [-a] DIR\n");
			return 2;
		}
	}
	if (optind != argc - 1 || cfg.n < 1 || cfg.threads < 1)
		return 2;
	cfg.dir = argv[optind];
	RAND_bytes(cfg.key, sizeof(cfg.key));
	mail_buf = malloc(cfg.mail);
	RAND_bytes(mail_buf, (int)cfg.mail);
	cfg.rootfd = open_dir(AT_FDCWD, cfg.dir);
	cfg.tmpfd = open_dir(cfg.rootfd, "tmp");
	cfg.dayfd = open_dir(cfg.rootfd, "day");
	cfg.reffd = open_dir(cfg.rootfd, "refs");
	cfg.auditfd = openat(cfg.rootfd, "audit.log", O_WRONLY | O_CREAT | O_APPEND, 0600);
	cfg.segfd = openat(cfg.rootfd, "seg-20261202-0001.tzs", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cfg.idxfd = openat(cfg.rootfd, "seg-20261202-0001.idx", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (cfg.auditfd < 0 || cfg.segfd < 0 || cfg.idxfd < 0)
		die("open");
	xfsync(cfg.rootfd);
	n_fsync = n_inode = 0;
	lat = calloc((size_t)cfg.n, sizeof(double));
	th = calloc((size_t)cfg.threads, sizeof(pthread_t));
	t0 = now_us();
	for (int i = 0; i < cfg.threads; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < cfg.threads; i++)
		pthread_join(th[i], NULL);
	secs = (now_us() - t0) / 1e6;
	qsort(lat, (size_t)cfg.n, sizeof(double), cmp_d);
	printf("%s %s %d %d %.0f %.2f %.2f %.0f %.0f %.1f\n", fmts[cfg.fmt], shape, cfg.threads,
	       cfg.n, cfg.n / secs, (double)n_fsync / cfg.n, (double)n_inode / cfg.n,
	       lat[(cfg.n - 1) / 2], lat[(int)((cfg.n - 1) * 0.99)],
	       n_batches ? (double)cfg.n / n_batches : 0.0);
	return 0;
}
