"""Short strings written for the tests, for language identification (bench/translation.py
reports the accuracy on them)."""

from __future__ import annotations

# (text, BCP-47 code); about 3-8 words each.
LANGUAGE_ID_SET: list[tuple[str, str]] = [
    ("Where is the train station?", "en"),
    ("I would like a cup of coffee, please.", "en"),
    ("The children are playing in the garden.", "en"),
    ("¿Dónde está la estación de tren?", "es"),
    ("Me gustaría un café con leche.", "es"),
    ("Los niños juegan en el jardín.", "es"),
    ("Où est la gare, s'il vous plaît ?", "fr"),
    ("Je voudrais un café au lait.", "fr"),
    ("Les enfants jouent dans le jardin.", "fr"),
    ("Wo ist der Bahnhof?", "de"),
    ("Ich hätte gern einen Kaffee.", "de"),
    ("Die Kinder spielen im Garten.", "de"),
    ("Dov'è la stazione dei treni?", "it"),
    ("Vorrei un caffè, per favore.", "it"),
    ("I bambini giocano in giardino.", "it"),
    ("Onde fica a estação de comboios?", "pt"),
    ("Eu queria um café, por favor.", "pt"),
    ("As crianças brincam no jardim.", "pt"),
    ("On és l'estació de tren?", "ca"),
    ("Voldria un cafè amb llet.", "ca"),
    ("Els nens juguen al jardí.", "ca"),
    ("Waar is het treinstation?", "nl"),
    ("Ik wil graag een kopje koffie.", "nl"),
    ("De kinderen spelen in de tuin.", "nl"),
]
