// The upload panel's messages in the app's four languages (merged into the catalogues by
// i18n/*.ts; every language has exactly the English keys). Keys start with `upload.`.

export const uploadEn = {
  'upload.title': 'Add images and 3D models',
  'upload.drop': 'Drop images or 3D models here, or choose files',
  'upload.hint': 'JPEG, PNG, TIFF (also 16-bit, BigTIFF and multi-page), WebP or JPEG 2000; 3D models as GLB or glTF. Each image, page or model becomes a subject.',
  'upload.choose': 'Choose files',
  'upload.progress': 'Upload progress',
  'upload.sending': 'Sending {current} of {total}: {name} ({percent}%)',
  'upload.converting': 'Preparing {name} for viewing…',
  'upload.done_one': 'Added {count} subject from {name}.',
  'upload.done_other': 'Added {count} subjects from {name}.',
  'upload.failed': '{name} was not added: {detail}',
  'upload.network': '{name} was not added: the connection to the server failed. Check the network and try again.',
  'upload.notImage': '{name} is not a file this server takes. Send a JPEG, PNG, TIFF, WebP or JPEG 2000 image, or a GLB or glTF model.',
} satisfies Record<string, string>;

export const uploadFr: Record<keyof typeof uploadEn, string> = {
  'upload.title': 'Ajouter des images et des modèles 3D',
  'upload.drop': 'Déposez des images ou des modèles 3D ici, ou choisissez des fichiers',
  'upload.hint': 'JPEG, PNG, TIFF (aussi 16 bits, BigTIFF et multipage), WebP ou JPEG 2000 ; modèles 3D en GLB ou glTF. Chaque image, page ou modèle devient un sujet.',
  'upload.choose': 'Choisir des fichiers',
  'upload.progress': 'Progression de l’envoi',
  'upload.sending': 'Envoi {current} sur {total} : {name} ({percent} %)',
  'upload.converting': 'Préparation de {name} pour la consultation…',
  'upload.done_one': '{count} sujet ajouté depuis {name}.',
  'upload.done_other': '{count} sujets ajoutés depuis {name}.',
  'upload.failed': '{name} n’a pas été ajouté : {detail}',
  'upload.network': '{name} n’a pas été ajouté : la connexion au serveur a échoué. Vérifiez le réseau et réessayez.',
  'upload.notImage': '{name} n’est pas un fichier accepté par ce serveur. Envoyez une image JPEG, PNG, TIFF, WebP ou JPEG 2000, ou un modèle GLB ou glTF.',
};

export const uploadDe: Record<keyof typeof uploadEn, string> = {
  'upload.title': 'Bilder und 3D-Modelle hinzufügen',
  'upload.drop': 'Bilder oder 3D-Modelle hier ablegen oder Dateien auswählen',
  'upload.hint': 'JPEG, PNG, TIFF (auch 16 Bit, BigTIFF und mehrseitig), WebP oder JPEG 2000; 3D-Modelle als GLB oder glTF. Jedes Bild, jede Seite und jedes Modell wird ein Objekt.',
  'upload.choose': 'Dateien auswählen',
  'upload.progress': 'Fortschritt des Hochladens',
  'upload.sending': 'Sende {current} von {total}: {name} ({percent} %)',
  'upload.converting': '{name} wird für die Ansicht vorbereitet…',
  'upload.done_one': '{count} Objekt aus {name} hinzugefügt.',
  'upload.done_other': '{count} Objekte aus {name} hinzugefügt.',
  'upload.failed': '{name} wurde nicht hinzugefügt: {detail}',
  'upload.network': '{name} wurde nicht hinzugefügt: Die Verbindung zum Server ist fehlgeschlagen. Prüfen Sie das Netzwerk und versuchen Sie es erneut.',
  'upload.notImage': '{name} ist keine Datei, die dieser Server annimmt. Senden Sie ein JPEG-, PNG-, TIFF-, WebP- oder JPEG-2000-Bild oder ein GLB- oder glTF-Modell.',
};

export const uploadIt: Record<keyof typeof uploadEn, string> = {
  'upload.title': 'Aggiungi immagini e modelli 3D',
  'upload.drop': 'Trascina qui immagini o modelli 3D, oppure scegli i file',
  'upload.hint': 'JPEG, PNG, TIFF (anche a 16 bit, BigTIFF e multipagina), WebP o JPEG 2000; modelli 3D in GLB o glTF. Ogni immagine, pagina o modello diventa un soggetto.',
  'upload.choose': 'Scegli i file',
  'upload.progress': 'Avanzamento del caricamento',
  'upload.sending': 'Invio {current} di {total}: {name} ({percent}%)',
  'upload.converting': 'Preparazione di {name} per la visualizzazione…',
  'upload.done_one': '{count} soggetto aggiunto da {name}.',
  'upload.done_other': '{count} soggetti aggiunti da {name}.',
  'upload.failed': '{name} non è stato aggiunto: {detail}',
  'upload.network': '{name} non è stato aggiunto: la connessione al server non è riuscita. Controlla la rete e riprova.',
  'upload.notImage': '{name} non è un file accettato da questo server. Invia un’immagine JPEG, PNG, TIFF, WebP o JPEG 2000, oppure un modello GLB o glTF.',
};
