# 筛查的解释：判定背后的证据，简体中文。
# 一条解释由其消息依次写成。来自商品信息和品牌目录的文字（$text、$brand、$term、$shown、
# $letters，以及 signal-category 的 $category）带引号；$field 为 "title" 或 "description"。

signal-vocabulary = { $field ->
        [description] 描述
       *[title] 标题
    }中的 { $text } 是假货常用语

signal-brand-text = { $field ->
        [description] 描述
       *[title] 标题
    }中的 { $text } { $strength ->
        [compat] 标明产品所适配的品牌 { $brand }
        [real-word] 是与品牌 { $brand } 相近的真实词语
        [ambiguous] 是与品牌 { $brand } 相符的普通词语
        [name] 与品牌 { $brand } 相符
        [partial] 与品牌 { $brand } 名称的一部分相符
        [common] 是品牌 { $brand } 名称中的常用词
       *[distinctive] 与品牌 { $brand } 相符
    }

signal-through = ，手法为{ signal-method }
signal-method = { $method ->
        [confusable] 形近字符
        [leetspeak] 以数字或符号代替字母
        [spaced] 在字母之间插入分隔符
        [fuzzy] 拼写变体
        [diacritics] 添加重音符号
        [styled] 花式字母
        [reversed] 借助从右到左控制符倒写
       *[exact] 完全一致
    }
signal-and = 和{ signal-method }

signal-stands-for-first = （{ $shown } 代替 { $letters }
signal-stands-for = ，{ $shown } 代替 { $letters }
signal-stands-for-more = ，等
signal-list-end = ）

signal-letters-off = （与 { $term } 相差 { $count } 个字母）

signal-image = 第 { $image } 张图片与品牌 { $brand } 的标志相差 { $bits } 位

signal-category = 发布在 { $category } 类目下，该类目属于品牌 { $brand }

signal-price = 售价 { $price }，为品牌 { $brand } 在 { $category } 类目参考价 { $reference } 的 { $percent }%

signal-capped = （{ $why ->
        [compat] 仅标明适配产品，无价格或用语证据
        [support] 普通词语、名称的一部分或拼错的短名称，且无佐证
        [glued] 名称嵌在较长的词语中，且无佐证
       *[counterfeit] 真实词语或常见名称，且无假货证据
    }）

seller-new-account = 卖家账户注册仅 { $days } 天
seller-poor-rating = 卖家评分为 { $rating }（满分 5）
seller-strikes = 卖家 { $seller } 在最近 { $days } 天内有 { $count } 次已确认的违规记录
seller-earlier-infringements = 卖家此前有 { $count } 次已确认的侵权记录
seller-repeat-infringer = 卖家 { $seller } 是重复侵权者
seller-linked = 卖家 { $seller } 因{ LIST($evidence, of: "link") }与重复侵权者 { $linked } 相互关联
seller-linked-more = （另与 { $count } 个卖家关联）

# 关联两个卖家的依据：$evidence 为代码，按下列用语写成列表。
link-payment-account = 共用支付账户
link-address = 共用地址
link-phone = 共用电话号码
link-product-image = 共用商品图片
link-email = 共用电子邮箱
link-identifier = 共用标识符
link-analyst-confirmed = 分析员的确认
list-separator = 、
list-and = 和
