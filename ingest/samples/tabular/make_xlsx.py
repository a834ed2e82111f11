"""Write ``ru_declarations.xlsx`` next to this script: Russian ДТ goods items, typed cells.

Run ``python ingest/samples/tabular/make_xlsx.py`` after changing the rows below. Dates are
date cells, weights, quantities and values are number cells (one weight is the float
0.1 + 0.2, to show numbers are read without float noise), one value is written as text the
way some exports store numbers. Companies are invented. Row 9 is deliberately bad (its value
``12,34,5`` is not a number).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

TARGET = Path(__file__).resolve().with_name("ru_declarations.xlsx")

HEADER = [
    "Номер ДТ",
    "Дата ДТ",
    "Номер товара",
    "Код ТН ВЭД",
    "Описание товара",
    "Отправитель",
    "Страна отправителя",
    "Получатель",
    "ИНН получателя",
    "Адрес получателя",
    "Страна происхождения",
    "Страна отправления",
    "Торговая марка",
    "Производитель",
    "Вес нетто, кг",
    "Количество",
    "Ед. изм.",
    "Фактурная стоимость",
    "Валюта",
]

_BALTIKA = (
    'ООО "БАЛТИК-КОМПОНЕНТ"',
    "3906998815",
    "236006, г. Калининград, ул. Портовая, д. 40",
)
_UZOR = ('ООО "УЗОР-ТЕКС"', "6671998826", "620075, г. Екатеринбург, ул. Малышева, д. 51")
_NAVIGATOR = ('ООО "НАВИГАТОР-ПРИБОР"', "7720998834", "111141, г. Москва, Зеленый пр-т, д. 8")

ROWS: list[list[object]] = [
    ["10012020/020424/0071133", date(2024, 4, 2), 1, "8807300000",
     "Части беспилотных летательных аппаратов: рамы из углепластика для квадрокоптеров",
     "DUBAI SKYPARTS GENERAL TRADING L.L.C.", "AE", *_BALTIKA, "CN", "AE", "FALCONFRAME",
     "SHENZHEN CARBONWING TECHNOLOGY CO., LTD", 312.5, 1500, "шт", 184500.0, "USD"],
    ["10012020/020424/0071133", date(2024, 4, 2), 2, "8507600000",
     "Аккумуляторы литий-ионные 6S 22,2 В 16000 мАч",
     "DUBAI SKYPARTS GENERAL TRADING L.L.C.", "AE", *_BALTIKA, "CN", "AE", "VOLTCORE",
     "DONGGUAN VOLTCORE BATTERY CO., LTD", 1890.0, 1200, "шт", 1234567.89, "USD"],
    ["10012020/020424/0071133", date(2024, 4, 2), 3, "8526910000",
     "Модули спутниковой навигации GNSS для встраивания",
     "DUBAI SKYPARTS GENERAL TRADING L.L.C.", "AE", *_BALTIKA, "CH", "AE", "ORBITA",
     "ORBITA POSITIONING AG", 0.1 + 0.2, 300, "шт", 41250.5, "USD"],
    ["10502110/050424/0012876", datetime(2024, 4, 5), 1, "6211339000",
     "Костюмы мужские камуфляжные из синтетических волокон",
     "TASHKENT TEXTILE EXPORT LLC", "UZ", *_UZOR, "UZ", "UZ", None,
     "TASHKENT TEXTILE EXPORT LLC", 2640.0, 4000, "шт", "98 000,00", "USD"],
    ["10502110/050424/0012876", datetime(2024, 4, 5), 2, "6307909800",
     "Чехлы для бронепластин (плитоносы) из полиамидной ткани",
     "TASHKENT TEXTILE EXPORT LLC", "UZ", *_UZOR, "UZ", "UZ", None,
     "TASHKENT TEXTILE EXPORT LLC", 980.0, 1800, "шт", 63000, "USD"],
    ["10130090/090424/0255401", date(2024, 4, 9), 1, "9013809000",
     "Монокуляры ночного видения цифровые",
     "ARMADA OPTICS FZE", "AE", *_NAVIGATOR, "CN", "AE", "NOCTIS",
     "WUHAN GUANGXIN OPTOELECTRONICS CO., LTD", 54.0, 150, "шт", 97500.0, "USD"],
    ["10130090/090424/0255401", date(2024, 4, 9), 2, "8542319010",
     "Схемы интегральные: программируемые логические интегральные схемы (ПЛИС)",
     "ARMADA OPTICS FZE", "AE", *_NAVIGATOR, "US", "AE", "NORTHCHIP",
     "NORTHCHIP SEMICONDUCTOR INC.", 2.75, 600, "шт", 88200.0, "USD"],
    ["10130090/090424/0255401", date(2024, 4, 9), 3, "9405119009",
     "Светильники светодиодные настольные",
     "ARMADA OPTICS FZE", "AE", *_NAVIGATOR, "CN", "AE", None,
     "ZHONGSHAN BRIGHTLINE LIGHTING CO., LTD", 140.0, 400, "шт", "12,34,5", "USD"],
    ["10702070/120424/3061502", date(2024, 4, 12), 1, "8516710000",
     "Кофеварки электрические капельные бытовые",
     "HONG KONG LINKSTAR TRADING LIMITED", "HK", 'ООО "ТЕХНОВЕКТОР-ДВ"', "2536998871",
     "690091, Приморский край, г. Владивосток, ул. Портовая, д. 17, оф. 4", "CN", "HK",
     "KAFFEMA", "NINGBO HOMEBREW APPLIANCES CO., LTD", 1155.0, 700, "шт", 12740.0, "USD"],
]  # fmt: skip


def build(target: Path = TARGET) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "ДТ"
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    for cell in sheet["B"][1:]:
        cell.number_format = "DD.MM.YYYY"
    fixed = datetime(2024, 4, 15, 9, 0, 0)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    workbook.save(target)
    return target


if __name__ == "__main__":
    print(build())
