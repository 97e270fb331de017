/* tz_emoji_map.c — visible stand-ins for private-use code points, above all
 * the Japanese carrier emoji.
 *
 * docomo i-mode phones send emoji as Shift_JIS F89F-F9FC; CP932 decoding
 * turns those into U+E63E-U+E757, which is also the code point docomo
 * itself assigned (docomo's published "絵文字" list, basic set E63E-E70B in
 * its order). The right-hand side is the standard emoji Unicode 6.0
 * unified these with (the emoji4unicode correspondence, as in the
 * Unicode "EmojiSources.txt" docomo column). Written by hand from that
 * public list; only the basic set, the one every docomo phone supports.
 * au (KDDI) and SoftBank codes overlap each other and user-defined
 * characters (外字) in the private-use area, so they are not guessed at:
 * every other private-use code point becomes "〓" (U+3013 GETA MARK, the
 * customary Japanese stand-in for an unrepresentable character) — visible,
 * never silently dropped. */
#include "textize.h"

#include <stdlib.h>

#include "tz_charset.h"

struct tz_emoji {
	unsigned pua;
	const char *utf8;
};

/* Sorted by pua for bsearch. */
static const struct tz_emoji tz_emoji_docomo[] = {
	{ 0xe63e, "\xe2\x98\x80" }, /* 晴れ ☀ */
	{ 0xe63f, "\xe2\x98\x81" }, /* 曇り ☁ */
	{ 0xe640, "\xe2\x98\x94" }, /* 雨 ☔ */
	{ 0xe641, "\xe2\x9b\x84" }, /* 雪 ⛄ */
	{ 0xe642, "\xe2\x9a\xa1" }, /* 雷 ⚡ */
	{ 0xe643, "\xf0\x9f\x8c\x80" }, /* 台風 🌀 */
	{ 0xe644, "\xf0\x9f\x8c\x81" }, /* 霧 🌁 */
	{ 0xe645, "\xf0\x9f\x8c\x82" }, /* 小雨 🌂 */
	{ 0xe646, "\xe2\x99\x88" }, /* 牡羊座 ♈ */
	{ 0xe647, "\xe2\x99\x89" }, /* 牡牛座 ♉ */
	{ 0xe648, "\xe2\x99\x8a" }, /* 双子座 ♊ */
	{ 0xe649, "\xe2\x99\x8b" }, /* 蟹座 ♋ */
	{ 0xe64a, "\xe2\x99\x8c" }, /* 獅子座 ♌ */
	{ 0xe64b, "\xe2\x99\x8d" }, /* 乙女座 ♍ */
	{ 0xe64c, "\xe2\x99\x8e" }, /* 天秤座 ♎ */
	{ 0xe64d, "\xe2\x99\x8f" }, /* 蠍座 ♏ */
	{ 0xe64e, "\xe2\x99\x90" }, /* 射手座 ♐ */
	{ 0xe64f, "\xe2\x99\x91" }, /* 山羊座 ♑ */
	{ 0xe650, "\xe2\x99\x92" }, /* 水瓶座 ♒ */
	{ 0xe651, "\xe2\x99\x93" }, /* 魚座 ♓ */
	{ 0xe653, "\xe2\x9a\xbe" }, /* 野球 ⚾ */
	{ 0xe654, "\xe2\x9b\xb3" }, /* ゴルフ ⛳ */
	{ 0xe655, "\xf0\x9f\x8e\xbe" }, /* テニス 🎾 */
	{ 0xe656, "\xe2\x9a\xbd" }, /* サッカー ⚽ */
	{ 0xe657, "\xf0\x9f\x8e\xbf" }, /* スキー 🎿 */
	{ 0xe658, "\xf0\x9f\x8f\x80" }, /* バスケットボール 🏀 */
	{ 0xe659, "\xf0\x9f\x8f\x81" }, /* モータースポーツ 🏁 */
	{ 0xe65a, "\xf0\x9f\x93\x9f" }, /* ポケットベル 📟 */
	{ 0xe65b, "\xf0\x9f\x9a\x83" }, /* 電車 🚃 */
	{ 0xe65c, "\xe2\x93\x82" }, /* 地下鉄 Ⓜ */
	{ 0xe65d, "\xf0\x9f\x9a\x84" }, /* 新幹線 🚄 */
	{ 0xe65e, "\xf0\x9f\x9a\x97" }, /* 車（セダン） 🚗 */
	{ 0xe65f, "\xf0\x9f\x9a\x99" }, /* 車（ＲＶ） 🚙 */
	{ 0xe660, "\xf0\x9f\x9a\x8c" }, /* バス 🚌 */
	{ 0xe661, "\xf0\x9f\x9a\xa2" }, /* 船 🚢 */
	{ 0xe662, "\xe2\x9c\x88" }, /* 飛行機 ✈ */
	{ 0xe663, "\xf0\x9f\x8f\xa0" }, /* 家 🏠 */
	{ 0xe664, "\xf0\x9f\x8f\xa2" }, /* ビル 🏢 */
	{ 0xe665, "\xf0\x9f\x8f\xa3" }, /* 郵便局 🏣 */
	{ 0xe666, "\xf0\x9f\x8f\xa5" }, /* 病院 🏥 */
	{ 0xe667, "\xf0\x9f\x8f\xa6" }, /* 銀行 🏦 */
	{ 0xe668, "\xf0\x9f\x8f\xa7" }, /* ＡＴＭ 🏧 */
	{ 0xe669, "\xf0\x9f\x8f\xa8" }, /* ホテル 🏨 */
	{ 0xe66a, "\xf0\x9f\x8f\xaa" }, /* コンビニ 🏪 */
	{ 0xe66b, "\xe2\x9b\xbd" }, /* ガソリンスタンド ⛽ */
	{ 0xe66c, "\xf0\x9f\x85\xbf" }, /* 駐車場 🅿 */
	{ 0xe66d, "\xf0\x9f\x9a\xa5" }, /* 信号 🚥 */
	{ 0xe66e, "\xf0\x9f\x9a\xbb" }, /* トイレ 🚻 */
	{ 0xe66f, "\xf0\x9f\x8d\xb4" }, /* レストラン 🍴 */
	{ 0xe670, "\xe2\x98\x95" }, /* 喫茶店 ☕ */
	{ 0xe671, "\xf0\x9f\x8d\xb8" }, /* バー 🍸 */
	{ 0xe672, "\xf0\x9f\x8d\xba" }, /* ビール 🍺 */
	{ 0xe673, "\xf0\x9f\x8d\x94" }, /* ファーストフード 🍔 */
	{ 0xe674, "\xf0\x9f\x91\xa0" }, /* ブティック 👠 */
	{ 0xe675, "\xe2\x9c\x82" }, /* 美容院 ✂ */
	{ 0xe676, "\xf0\x9f\x8e\xa4" }, /* カラオケ 🎤 */
	{ 0xe677, "\xf0\x9f\x8e\xa5" }, /* 映画 🎥 */
	{ 0xe678, "\xe2\x86\x97" }, /* 右斜め上 ↗ */
	{ 0xe679, "\xf0\x9f\x8e\xa0" }, /* 遊園地 🎠 */
	{ 0xe67a, "\xf0\x9f\x8e\xa7" }, /* 音楽 🎧 */
	{ 0xe67b, "\xf0\x9f\x8e\xa8" }, /* アート 🎨 */
	{ 0xe67c, "\xf0\x9f\x8e\xa9" }, /* 演劇 🎩 */
	{ 0xe67d, "\xf0\x9f\x8e\xaa" }, /* イベント 🎪 */
	{ 0xe67e, "\xf0\x9f\x8e\xab" }, /* チケット 🎫 */
	{ 0xe67f, "\xf0\x9f\x9a\xac" }, /* 喫煙 🚬 */
	{ 0xe680, "\xf0\x9f\x9a\xad" }, /* 禁煙 🚭 */
	{ 0xe681, "\xf0\x9f\x93\xb7" }, /* カメラ 📷 */
	{ 0xe682, "\xf0\x9f\x91\x9c" }, /* カバン 👜 */
	{ 0xe683, "\xf0\x9f\x93\x96" }, /* 本 📖 */
	{ 0xe684, "\xf0\x9f\x8e\x80" }, /* リボン 🎀 */
	{ 0xe685, "\xf0\x9f\x8e\x81" }, /* プレゼント 🎁 */
	{ 0xe686, "\xf0\x9f\x8e\x82" }, /* バースデー 🎂 */
	{ 0xe687, "\xe2\x98\x8e" }, /* 電話 ☎ */
	{ 0xe688, "\xf0\x9f\x93\xb1" }, /* 携帯電話 📱 */
	{ 0xe689, "\xf0\x9f\x93\x9d" }, /* メモ 📝 */
	{ 0xe68a, "\xf0\x9f\x93\xba" }, /* テレビ 📺 */
	{ 0xe68b, "\xf0\x9f\x8e\xae" }, /* ゲーム 🎮 */
	{ 0xe68c, "\xf0\x9f\x92\xbf" }, /* ＣＤ 💿 */
	{ 0xe68d, "\xe2\x99\xa5" }, /* ハート ♥ */
	{ 0xe68e, "\xe2\x99\xa0" }, /* スペード ♠ */
	{ 0xe68f, "\xe2\x99\xa6" }, /* ダイヤ ♦ */
	{ 0xe690, "\xe2\x99\xa3" }, /* クラブ ♣ */
	{ 0xe691, "\xf0\x9f\x91\x80" }, /* 目 👀 */
	{ 0xe692, "\xf0\x9f\x91\x82" }, /* 耳 👂 */
	{ 0xe693, "\xe2\x9c\x8a" }, /* 手（グー） ✊ */
	{ 0xe694, "\xe2\x9c\x8c" }, /* 手（チョキ） ✌ */
	{ 0xe695, "\xe2\x9c\x8b" }, /* 手（パー） ✋ */
	{ 0xe696, "\xe2\x86\x98" }, /* 右斜め下 ↘ */
	{ 0xe697, "\xe2\x86\x96" }, /* 左斜め上 ↖ */
	{ 0xe698, "\xf0\x9f\x91\xa3" }, /* 足 👣 */
	{ 0xe699, "\xf0\x9f\x91\x9f" }, /* くつ 👟 */
	{ 0xe69a, "\xf0\x9f\x91\x93" }, /* 眼鏡 👓 */
	{ 0xe69b, "\xe2\x99\xbf" }, /* 車椅子 ♿ */
	{ 0xe69c, "\xf0\x9f\x8c\x91" }, /* 新月 🌑 */
	{ 0xe69d, "\xf0\x9f\x8c\x94" }, /* やや欠け月 🌔 */
	{ 0xe69e, "\xf0\x9f\x8c\x93" }, /* 半月 🌓 */
	{ 0xe69f, "\xf0\x9f\x8c\x99" }, /* 三日月 🌙 */
	{ 0xe6a0, "\xf0\x9f\x8c\x95" }, /* 満月 🌕 */
	{ 0xe6a1, "\xf0\x9f\x90\xb6" }, /* 犬 🐶 */
	{ 0xe6a2, "\xf0\x9f\x90\xb1" }, /* 猫 🐱 */
	{ 0xe6a3, "\xe2\x9b\xb5" }, /* リゾート ⛵ */
	{ 0xe6a4, "\xf0\x9f\x8e\x84" }, /* クリスマス 🎄 */
	{ 0xe6a5, "\xe2\x86\x99" }, /* 左斜め下 ↙ */
	{ 0xe6ce, "\xf0\x9f\x93\xb2" }, /* phone_to 📲 */
	{ 0xe6cf, "\xf0\x9f\x93\xa9" }, /* mail_to 📩 */
	{ 0xe6d0, "\xf0\x9f\x93\xa0" }, /* fax_to 📠 */
	{ 0xe6d3, "\xe2\x9c\x89" }, /* メール ✉ */
	{ 0xe6d6, "\xf0\x9f\x92\xb4" }, /* 有料 💴 */
	{ 0xe6d7, "\xf0\x9f\x86\x93" }, /* 無料 🆓 */
	{ 0xe6d8, "\xf0\x9f\x86\x94" }, /* ＩＤ 🆔 */
	{ 0xe6d9, "\xf0\x9f\x94\x91" }, /* パスワード 🔑 */
	{ 0xe6da, "\xe2\x86\xa9" }, /* 次項有 ↩ */
	{ 0xe6db, "\xf0\x9f\x86\x91" }, /* クリア 🆑 */
	{ 0xe6dc, "\xf0\x9f\x94\x8d" }, /* サーチ 🔍 */
	{ 0xe6dd, "\xf0\x9f\x86\x95" }, /* ＮＥＷ 🆕 */
	{ 0xe6de, "\xf0\x9f\x9a\xa9" }, /* 位置情報 🚩 */
	{ 0xe6e0, "\x23\xe2\x83\xa3" }, /* シャープダイヤル #⃣ */
	{ 0xe6e2, "\x31\xe2\x83\xa3" }, /* 1 1⃣ */
	{ 0xe6e3, "\x32\xe2\x83\xa3" }, /* 2 2⃣ */
	{ 0xe6e4, "\x33\xe2\x83\xa3" }, /* 3 3⃣ */
	{ 0xe6e5, "\x34\xe2\x83\xa3" }, /* 4 4⃣ */
	{ 0xe6e6, "\x35\xe2\x83\xa3" }, /* 5 5⃣ */
	{ 0xe6e7, "\x36\xe2\x83\xa3" }, /* 6 6⃣ */
	{ 0xe6e8, "\x37\xe2\x83\xa3" }, /* 7 7⃣ */
	{ 0xe6e9, "\x38\xe2\x83\xa3" }, /* 8 8⃣ */
	{ 0xe6ea, "\x39\xe2\x83\xa3" }, /* 9 9⃣ */
	{ 0xe6eb, "\x30\xe2\x83\xa3" }, /* 0 0⃣ */
	{ 0xe6ec, "\xe2\x9d\xa4" }, /* 黒ハート ❤ */
	{ 0xe6ed, "\xf0\x9f\x92\x93" }, /* 揺れるハート 💓 */
	{ 0xe6ee, "\xf0\x9f\x92\x94" }, /* 失恋 💔 */
	{ 0xe6ef, "\xf0\x9f\x92\x95" }, /* ハートたち 💕 */
	{ 0xe6f0, "\xf0\x9f\x98\x83" }, /* わーい（嬉しい顔） 😃 */
	{ 0xe6f1, "\xf0\x9f\x98\xa0" }, /* ちっ（怒った顔） 😠 */
	{ 0xe6f2, "\xf0\x9f\x98\x9e" }, /* がく～（落胆した顔） 😞 */
	{ 0xe6f3, "\xf0\x9f\x98\x96" }, /* もうやだ～（悲しい顔） 😖 */
	{ 0xe6f4, "\xf0\x9f\x98\xb5" }, /* ふらふら 😵 */
	{ 0xe6f5, "\xe2\xa4\xb4" }, /* グッド（上向き矢印） ⤴ */
	{ 0xe6f6, "\xf0\x9f\x8e\xb5" }, /* るんるん 🎵 */
	{ 0xe6f7, "\xe2\x99\xa8" }, /* いい気分（温泉） ♨ */
	{ 0xe6f8, "\xf0\x9f\x92\xa0" }, /* かわいい 💠 */
	{ 0xe6f9, "\xf0\x9f\x92\x8b" }, /* キスマーク 💋 */
	{ 0xe6fa, "\xe2\x9c\xa8" }, /* ぴかぴか（新しい） ✨ */
	{ 0xe6fb, "\xf0\x9f\x92\xa1" }, /* ひらめき 💡 */
	{ 0xe6fc, "\xf0\x9f\x92\xa2" }, /* むかっ（怒り） 💢 */
	{ 0xe6fd, "\xf0\x9f\x91\x8a" }, /* パンチ 👊 */
	{ 0xe6fe, "\xf0\x9f\x92\xa3" }, /* 爆弾 💣 */
	{ 0xe6ff, "\xf0\x9f\x8e\xb6" }, /* ムード 🎶 */
	{ 0xe700, "\xe2\xa4\xb5" }, /* バッド（下向き矢印） ⤵ */
	{ 0xe701, "\xf0\x9f\x92\xa4" }, /* 眠い（睡眠） 💤 */
	{ 0xe702, "\xe2\x9d\x97" }, /* exclamation ❗ */
	{ 0xe703, "\xe2\x81\x89" }, /* exclamation&question ⁉ */
	{ 0xe704, "\xe2\x80\xbc" }, /* exclamation×2 ‼ */
	{ 0xe705, "\xf0\x9f\x92\xa5" }, /* どんっ（衝撃） 💥 */
	{ 0xe706, "\xf0\x9f\x92\xa6" }, /* あせあせ（飛び散る汗） 💦 */
	{ 0xe707, "\xf0\x9f\x98\x93" }, /* たらーっ（汗） 😓 */
	{ 0xe708, "\xf0\x9f\x92\xa8" }, /* ダッシュ（走り出すさま） 💨 */
	{ 0xe709, "\xe3\x80\xb0" }, /* ー（長音記号１） 〰 */
	{ 0xe70a, "\xe2\x9e\xb0" }, /* ー（長音記号２） ➰ */
	{ 0xe70b, "\xf0\x9f\x86\x97" }, /* 決定 🆗 */
};

static int tz_emoji_cmp(const void *key, const void *elem)
{
	unsigned k = *(const unsigned *)key;
	const struct tz_emoji *e = elem;

	return k < e->pua ? -1 : k > e->pua ? 1 : 0;
}

const char *tz_charset_pua_substitute(gunichar ch)
{
	const struct tz_emoji *e;
	unsigned key = ch;

	if (ch < 0xe000 || ch > 0xf8ff)
		return NULL;
	e = bsearch(&key, tz_emoji_docomo, G_N_ELEMENTS(tz_emoji_docomo),
		    sizeof tz_emoji_docomo[0], tz_emoji_cmp);
	return e ? e->utf8 : "\xe3\x80\x93"; /* 〓 */
}
