// Track names that read like lo-fi track names ("Raindrops on the Window", "Sunday Coffee"), drawn
// from the mood, deterministic from the station's seed and the track number, and never the same
// twice within NAME_WINDOW consecutive tracks of a station. The guarantee is by construction:
//  - the track number k (mod NAME_WINDOW) is split into (k mod nouns, k div nouns), and each part
//    goes through a bijection keyed by the seed, so two tracks less than NAME_WINDOW apart get
//    different name ids (and a mood's nouns take turns: tracks close together never share one);
//  - each theme renders at least NAME_WINDOW distinct names, id -> name injective;
//  - every name holds exactly one noun of its theme, and themes share no noun (nor do the shared
//    word lists hold one), so names of two themes never coincide.
// The unit tests enumerate all of it.

/** Tracks in a row that never repeat a name; above a day's tracks (60 s tracks make 1440 a day). */
export const NAME_WINDOW = 2048;

/** A word with its Chinese reading (for the optional subtitle of Chinese moods). */
type W = readonly [en: string, zh: string];

export interface Theme {
  id: string;
  /** Words of a mood (English or Chinese) that choose the theme. */
  match: RegExp;
  nouns: readonly W[];
}

export const THEMES: readonly Theme[] = [
  {
    id: 'rain',
    match: /\b(?:rain|drizzl|storm|umbrella)|雨/iu,
    nouns: [
      ['Rain', '雨'],
      ['Raindrops', '雨滴'],
      ['Drizzle', '细雨'],
      ['Puddles', '水洼'],
      ['Umbrellas', '雨伞'],
      ['Rainclouds', '雨云'],
      ['Showers', '阵雨'],
      ['Thunder', '雷声'],
      ['Downpour', '大雨'],
      ['Mist', '薄雾'],
      ['Gutters', '屋檐水'],
      ['Petrichor', '雨后的气味'],
    ],
  },
  {
    id: 'night',
    match: /\b(?:night|midnight|neon|moon|late)|夜|月|霓虹/iu,
    nouns: [
      ['Streetlights', '路灯'],
      ['Moonlight', '月光'],
      ['Neon', '霓虹'],
      ['Nightfall', '夜幕'],
      ['Owls', '猫头鹰'],
      ['Lanterns', '灯笼'],
      ['Headlights', '车灯'],
      ['Insomnia', '失眠'],
      ['Shadows', '影子'],
      ['Silhouettes', '剪影'],
      ['Nightcaps', '睡前酒'],
      ['Porchlights', '门廊灯'],
    ],
  },
  {
    id: 'coffee',
    match: /\b(?:coffee|caf[eé]|espresso|latte|jazz)|咖啡|爵士/iu,
    nouns: [
      ['Coffee', '咖啡'],
      ['Espresso', '浓缩咖啡'],
      ['Latte', '拿铁'],
      ['Steam', '热气'],
      ['Mugs', '马克杯'],
      ['Cappuccino', '卡布奇诺'],
      ['Croissants', '可颂'],
      ['Sugar', '方糖'],
      ['Refills', '续杯'],
      ['Saucers', '茶碟'],
      ['Biscotti', '意式脆饼'],
      ['Baristas', '咖啡师'],
    ],
  },
  {
    id: 'study',
    match: /\b(?:stud(?:y|ying)\b|librar|book|reading\b|focus|homework)|学习|书|图书馆|专注/iu,
    nouns: [
      ['Notebooks', '笔记本'],
      ['Pencils', '铅笔'],
      ['Pages', '书页'],
      ['Homework', '作业'],
      ['Chapters', '章节'],
      ['Bookmarks', '书签'],
      ['Margins', '页边'],
      ['Flashcards', '单词卡'],
      ['Ink', '墨水'],
      ['Textbooks', '课本'],
      ['Footnotes', '脚注'],
      ['Libraries', '图书馆'],
    ],
  },
  {
    id: 'winter',
    match: /\b(?:snow|winter|cold|frost|christmas)|雪|冬/iu,
    nouns: [
      ['Snow', '雪'],
      ['Snowflakes', '雪花'],
      ['Frost', '霜'],
      ['Mittens', '手套'],
      ['Icicles', '冰柱'],
      ['Sleet', '雨夹雪'],
      ['Snowfall', '落雪'],
      ['Scarves', '围巾'],
      ['Cocoa', '热可可'],
      ['Fireplaces', '壁炉'],
      ['Blizzards', '暴风雪'],
      ['Sweaters', '毛衣'],
    ],
  },
  {
    id: 'summer',
    match: /\b(?:summer|sun\b|sunny|sunshine|beach|tropical)|夏|阳光|海滩/iu,
    nouns: [
      ['Sunlight', '阳光'],
      ['Sunsets', '日落'],
      ['Lemonade', '柠檬水'],
      ['Cicadas', '蝉鸣'],
      ['Sunbeams', '光束'],
      ['Heatwaves', '热浪'],
      ['Popsicles', '冰棒'],
      ['Sunflowers', '向日葵'],
      ['Fireflies', '萤火虫'],
      ['Sandals', '凉鞋'],
      ['Watermelon', '西瓜'],
      ['Hammocks', '吊床'],
    ],
  },
  {
    id: 'ocean',
    match: /\b(?:ocean|seas?\b|seaside|wave|shore|harbou?r|coast)|海|浪/iu,
    nouns: [
      ['Waves', '海浪'],
      ['Tides', '潮汐'],
      ['Seashells', '贝壳'],
      ['Seagulls', '海鸥'],
      ['Driftwood', '浮木'],
      ['Lighthouses', '灯塔'],
      ['Sailboats', '帆船'],
      ['Saltwater', '海水'],
      ['Seafoam', '浪花'],
      ['Anchors', '船锚'],
      ['Ripples', '涟漪'],
      ['Shorelines', '海岸线'],
    ],
  },
  {
    id: 'forest',
    match: /\b(?:forest|nature|bird|garden|leaf|leaves|autumn|trees?\b)|森林|自然|花园|秋|树/iu,
    nouns: [
      ['Leaves', '树叶'],
      ['Pines', '松树'],
      ['Moss', '青苔'],
      ['Ferns', '蕨类'],
      ['Acorns', '橡果'],
      ['Sparrows', '麻雀'],
      ['Meadows', '草地'],
      ['Willows', '柳树'],
      ['Blossoms', '花开'],
      ['Clover', '三叶草'],
      ['Treetops', '树梢'],
      ['Wildflowers', '野花'],
    ],
  },
  {
    id: 'city',
    match: /\b(?:city|train|subway|metro\b|bus\b|street|driv(?:e|ing)\b|urban)|城市|地铁|街|火车/iu,
    nouns: [
      ['Trains', '火车'],
      ['Subways', '地铁'],
      ['Taxis', '出租车'],
      ['Crosswalks', '斑马线'],
      ['Skylines', '天际线'],
      ['Trams', '电车'],
      ['Alleys', '小巷'],
      ['Billboards', '广告牌'],
      ['Elevators', '电梯'],
      ['Bicycles', '自行车'],
      ['Traffic', '车流'],
      ['Sidewalks', '人行道'],
    ],
  },
  {
    id: 'dream',
    match: /\b(?:dream|space\b|stars?\b|starry|ambient|ethereal|cloud|sleep)|梦|星|太空|云|睡/iu,
    nouns: [
      ['Stars', '星星'],
      ['Clouds', '云朵'],
      ['Comets', '彗星'],
      ['Galaxies', '星系'],
      ['Orbits', '轨道'],
      ['Satellites', '卫星'],
      ['Nebulas', '星云'],
      ['Stardust', '星尘'],
      ['Constellations', '星座'],
      ['Daydreams', '白日梦'],
      ['Lullabies', '摇篮曲'],
      ['Echoes', '回声'],
    ],
  },
  {
    // Any other mood: the objects of a lo-fi afternoon.
    id: 'home',
    match: /$^/u,
    nouns: [
      ['Vinyl', '黑胶'],
      ['Cassettes', '磁带'],
      ['Polaroids', '拍立得'],
      ['Letters', '信'],
      ['Memories', '回忆'],
      ['Houseplants', '盆栽'],
      ['Headphones', '耳机'],
      ['Sketches', '素描'],
      ['Keepsakes', '纪念品'],
      ['Mixtapes', '混音带'],
      ['Photographs', '照片'],
      ['Souvenirs', '旅行纪念品'],
    ],
  },
];

const ADJECTIVES: readonly W[] = [
  ['Soft', '柔软'],
  ['Slow', '缓慢'],
  ['Quiet', '安静'],
  ['Gentle', '温柔'],
  ['Faded', '褪色'],
  ['Hazy', '朦胧'],
  ['Sleepy', '困倦'],
  ['Golden', '金色'],
  ['Dusty', '蒙尘'],
  ['Warm', '温暖'],
  ['Velvet', '丝绒'],
  ['Mellow', '醇厚'],
  ['Lazy', '慵懒'],
  ['Little', '小小'],
  ['Distant', '遥远'],
  ['Tender', '轻柔'],
  ['Drowsy', '昏昏欲睡'],
  ['Pale', '淡淡'],
  ['Silver', '银色'],
  ['Amber', '琥珀色'],
  ['Lavender', '淡紫'],
  ['Paper', '纸做'],
  ['Honey', '蜂蜜色'],
  ['Crooked', '歪歪'],
  ['Lonely', '孤单'],
  ['Secret', '秘密'],
  ['Borrowed', '借来'],
  ['Forgotten', '被遗忘'],
  ['Tiny', '微小'],
  ['Hushed', '静悄悄'],
  ['Cozy', '舒适'],
  ['Muted', '低声'],
  ['Wistful', '怅然'],
  ['Patient', '耐心'],
  ['Humble', '朴素'],
  ['Rosy', '玫瑰色'],
  ['Blurry', '模糊'],
  ['Sepia', '泛黄'],
  ['Rusty', '生锈'],
  ['Breezy', '微风'],
  ['Careless', '无忧'],
  ['Easy', '轻松'],
  ['Steady', '平稳'],
  ['Weightless', '失重'],
  ['Fragile', '易碎'],
  ['Wandering', '漫游'],
  ['Faraway', '远方'],
  ['Unhurried', '从容'],
];

const PLACES: readonly W[] = [
  ['on the Window', '窗上'],
  ['by the Window', '窗边'],
  ['on the Rooftop', '屋顶上'],
  ['over the Bridge', '桥上'],
  ['at the Station', '车站'],
  ['on the Balcony', '阳台上'],
  ['by the River', '河边'],
  ['across the Harbor', '港口那头'],
  ['in the Kitchen', '厨房里'],
  ['on the Stairs', '楼梯上'],
  ['at the Corner', '街角'],
  ['in the Hallway', '走廊里'],
  ['by the Lake', '湖边'],
  ['on the Porch', '门廊上'],
  ['in the Attic', '阁楼里'],
  ['at the Laundromat', '洗衣店'],
  ['in the Doorway', '门口'],
  ['by the Bookshop', '书店旁'],
  ['at the Diner', '小餐馆'],
  ['on the Ferry', '渡轮上'],
  ['in the Park', '公园里'],
  ['by the Fountain', '喷泉旁'],
  ['on the Platform', '站台上'],
  ['at the Crossing', '路口'],
  ['in the Courtyard', '庭院里'],
  ['by the Pier', '码头边'],
  ['on the Hill', '山坡上'],
  ['in the Studio', '录音室里'],
  ['at the Market', '集市上'],
  ['under the Awning', '雨棚下'],
  ['under the Bridge', '桥下'],
  ['on Elm Street', '榆树街'],
];

const TIMES: readonly W[] = [
  ['Sunday', '周日'],
  ['Monday', '周一'],
  ['Tuesday', '周二'],
  ['Wednesday', '周三'],
  ['Thursday', '周四'],
  ['Friday', '周五'],
  ['Saturday', '周六'],
  ['Morning', '清晨'],
  ['Evening', '傍晚'],
  ['Afternoon', '午后'],
  ['Midnight', '午夜'],
  ['Twilight', '暮光'],
  ['Dawn', '黎明'],
  ['Dusk', '黄昏'],
  ['Weekend', '周末'],
  ['January', '一月'],
  ['February', '二月'],
  ['March', '三月'],
  ['April', '四月'],
  ['May', '五月'],
  ['June', '六月'],
  ['July', '七月'],
  ['August', '八月'],
  ['September', '九月'],
  ['October', '十月'],
  ['November', '十一月'],
  ['December', '十二月'],
  ['Holiday', '假日'],
  ['Autumn', '秋天'],
  ['Springtime', '春日'],
];

const VERBS: readonly W[] = [
  ['Counting', '数着'],
  ['Chasing', '追逐'],
  ['Waiting for', '等待'],
  ['Dreaming of', '梦见'],
  ['Remembering', '想起'],
  ['Following', '跟随'],
  ['Watching', '看着'],
  ['Catching', '接住'],
  ['Collecting', '收集'],
  ['Painting', '画下'],
  ['Humming', '哼着'],
  ['Missing', '想念'],
  ['Writing', '写下'],
  ['Drawing', '描绘'],
  ['Finding', '找到'],
  ['Forgetting', '忘记'],
  ['Keeping', '留住'],
  ['Folding', '折叠'],
  ['Gathering', '拾起'],
  ['Listening to', '聆听'],
  ['Walking through', '穿过'],
  ['Dancing in', '起舞于'],
  ['Looking for', '寻找'],
  ['Holding', '握着'],
  ['Saving', '存下'],
  ['Naming', '命名'],
  ['Trading', '交换'],
  ['Tracing', '描摹'],
  ['Hiding', '藏起'],
  ['Sharing', '分享'],
];

const OBJECTS: readonly W[] = [
  ['Tea', '茶'],
  ['Toast', '吐司'],
  ['Postcards', '明信片'],
  ['Blankets', '毯子'],
  ['Candles', '蜡烛'],
  ['Radio', '收音机'],
  ['Pillows', '枕头'],
  ['Slippers', '拖鞋'],
  ['Cinnamon', '肉桂'],
  ['Oranges', '橘子'],
  ['Marmalade', '柑橘酱'],
  ['Paperbacks', '平装书'],
  ['Cardigans', '开衫'],
  ['Crosswords', '填字游戏'],
  ['Jigsaws', '拼图'],
  ['Teacups', '茶杯'],
  ['Curtains', '窗帘'],
  ['Goodbyes', '告别'],
  ['Promises', '约定'],
  ['Wishes', '愿望'],
  ['Whispers', '低语'],
  ['Cats', '猫'],
  ['Quilts', '被子'],
  ['Pancakes', '松饼'],
  ['Peaches', '桃子'],
  ['Plums', '李子'],
  ['Biscuits', '饼干'],
  ['Jam', '果酱'],
  ['Matches', '火柴'],
  ['Envelopes', '信封'],
  ['Stamps', '邮票'],
  ['Crayons', '蜡笔'],
];

/** One shape of name: a shared word list, and how a noun and a word of it make a name. */
interface Template {
  words: readonly W[];
  en: (noun: string, word: string) => string;
  zh: (noun: string, word: string) => string;
}

const TEMPLATES: readonly Template[] = [
  { words: ADJECTIVES, en: (n, w) => `${w} ${n}`, zh: (n, w) => `${w}的${n}` },
  { words: PLACES, en: (n, w) => `${n} ${w}`, zh: (n, w) => `${w}的${n}` },
  { words: TIMES, en: (n, w) => `${w} ${n}`, zh: (n, w) => `${w}的${n}` },
  { words: VERBS, en: (n, w) => `${w} ${n}`, zh: (n, w) => `${w}${n}` },
  { words: OBJECTS, en: (n, w) => `${n} and ${w}`, zh: (n, w) => `${n}与${w}` },
];

/** Every word of the shared lists, for the tests' disjointness check. */
export const SHARED_WORDS: readonly string[] = TEMPLATES.flatMap((t) => t.words.map((w) => w[0]));

/** Names one theme can render: each of its nouns with each word of each template. */
export const themeSize = (theme: Theme): number =>
  TEMPLATES.reduce((n, t) => n + t.words.length * theme.nouns.length, 0);

const CJK = /[\u3400-\u9fff]/u;

/** The theme of a mood: the one whose words come first in it; 'home' when none does. */
export function themeOf(prompt: string): Theme {
  let best: Theme | undefined;
  let at = Number.POSITIVE_INFINITY;
  for (const t of THEMES) {
    const m = t.match.exec(prompt);
    if (m && m.index < at) {
      best = t;
      at = m.index;
    }
  }
  return best ?? (THEMES[THEMES.length - 1] as Theme);
}

function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * A bijection of [0, size) keyed by the seed: on the smallest power of two holding `size`, rounds
 * of multiply-by-odd, add and xor-shift (each invertible modulo a power of two), walked until the
 * value falls below `size` (cycle walking keeps it a bijection).
 */
export function permute(k: number, seed: number, size: number): number {
  const bits = Math.max(1, Math.ceil(Math.log2(size)));
  const mask = 2 ** bits - 1;
  let x = k;
  do {
    for (let r = 0; r < 3; r++) {
      x = (Math.imul(x, mix(seed, r) | 1) + mix(seed, r, 1)) & mask;
      x ^= x >>> Math.max(1, bits >>> 1);
    }
  } while (x >= size);
  return x;
}

export interface TrackName {
  name: string;
  /** Chinese reading, for Chinese moods. */
  subtitle?: string;
}

/** Words of all templates, one after another: a name is one of them with one noun. */
const WORDS = TEMPLATES.reduce((n, t) => n + t.words.length, 0);

/**
 * The name with the given id (0 <= id < themeSize) in a theme, id = word * nouns + noun, where
 * `word` counts through the templates' words in turn: id -> name is injective.
 */
export function nameAt(theme: Theme, id: number): { en: string; zh: string } {
  const n = theme.nouns.length;
  const [nounEn, nounZh] = theme.nouns[id % n] as W;
  let word = Math.floor(id / n);
  for (const t of TEMPLATES) {
    if (word < t.words.length) {
      const [wordEn, wordZh] = t.words[word] as W;
      return { en: t.en(nounEn, wordEn), zh: t.zh(nounZh, wordZh) };
    }
    word -= t.words.length;
  }
  throw new RangeError(`name id ${id} is outside theme ${theme.id}`);
}

/**
 * The name of a station's track `index` in a mood. Deterministic; within NAME_WINDOW consecutive
 * track numbers of a station never the same name, whatever the moods. Within one mood the theme's
 * nouns take turns (a seeded order), so tracks close together never share one.
 */
export function trackName(input: { seed: number; index: number; prompt: string }): TrackName {
  const theme = themeOf(input.prompt);
  const n = theme.nouns.length;
  const k = ((Math.floor(input.index) % NAME_WINDOW) + NAME_WINDOW) % NAME_WINDOW;
  // k <-> (c = k div n, r = k mod n) is a bijection. Each run of n tracks (one c) gets every noun
  // once, in an order of its own (a seeded bijection of r keyed by c); the word is a seeded
  // bijection of c keyed by the noun, so two tracks with one noun (different c) get different
  // words. Keyed by the theme too, so one seed reads differently per mood. c < NAME_WINDOW / n
  // <= WORDS (the tests check the sizes).
  const key = mix(input.seed, THEMES.indexOf(theme));
  const c = Math.floor(k / n);
  const noun = permute(k % n, mix(key, 2, c), n);
  const word = permute(c, mix(key, 1, noun), WORDS);
  const { en, zh } = nameAt(theme, word * n + noun);
  return CJK.test(input.prompt) ? { name: en, subtitle: zh } : { name: en };
}
