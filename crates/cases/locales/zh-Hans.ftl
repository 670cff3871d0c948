# 案件管理通过平台的卖家管理告知卖家：其处置级别为何变更。$count 为 $days 天内计入的违规
# 次数；$level 和 $previous 为 none、warn、restrict 或 suspend；$linked 和 $was 为卖家；
# $evidence 为两个卖家之间的关联依据，以代码表示，按下文 link- 用语写成列表（旧记录为英文原文，照原样写出）。

enforcement-strikes = { $days } 天内 { $count } 次违规
enforcement-level = { $level ->
        [none] 不予处置
        [warn] 警告
        [restrict] 限制经营
       *[suspend] 暂停经营
    }
enforcement-previous = { $previous ->
        [none] 不予处置
        [warn] 警告
        [restrict] 限制经营
       *[suspend] 暂停经营
    }

enforcement-up = { enforcement-strikes }：{ enforcement-level }
enforcement-down = 违规记录已撤销或过期，现计 { enforcement-strikes }：{ enforcement-level }（此前为{ enforcement-previous }）
enforcement-linked = 因 { LIST($evidence, of: "link") } 与已暂停经营的卖家 { $linked } 相关联：暂停经营
enforcement-linked-still = 违规记录已撤销或过期，现计 { enforcement-strikes }，但因 { LIST($evidence, of: "link") } 与已暂停经营的卖家 { $linked } 相关联：暂停经营
enforcement-was-linked = { enforcement-strikes }：{ enforcement-level }（此前作为与卖家 { $was } 关联的卖家被暂停经营）
enforcement-unlinked = 不再与已暂停经营的卖家关联（此前为 { $was }），现计 { enforcement-strikes }：{ enforcement-level }（此前为{ enforcement-previous }）

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
